/* Unit tests: cli_export (the movement rows and context names the tern
 * client's offline check and reference read beside the command table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "../../src/cli/cli.h"
#include "../../src/cli/cli_export.h"

/* Every movement row names a command of the table that is valid in each
 * context of the row's mask. */
static void test_moves_name_real_commands(void **state)
{
	int nm, nc;
	const struct cli_move_row *m = cli_export_moves(&nm);
	const struct cli_cmd *c = cli_commands(&nc);
	assert_true(nm > 0);
	for (int i = 0; i < nm; i++) {
		for (int cx = 0; cx < CLI_CTX__COUNT; cx++) {
			if (!(m[i].ctx & CLI_IN(cx)))
				continue;
			bool found = false;
			for (int k = 0; k < nc && !found; k++)
				found = (c[k].ctx & CLI_IN(cx)) && !strcasecmp(c[k].words, m[i].words);
			if (!found)
				fail_msg("move row '%s' has no command in context %d", m[i].words, cx);
		}
	}
}

/* A command that enters a context is never marked as changing stored
 * state by itself, and an entered context's parent is where it came from
 * (or a sibling it replaces). */
static void test_enter_targets_have_the_right_parent(void **state)
{
	int nm;
	const struct cli_move_row *m = cli_export_moves(&nm);
	for (int i = 0; i < nm; i++) {
		if (m[i].step.move != CLI_MOVE_ENTER)
			continue;
		enum cli_ctx parent = cli_ctx_def(m[i].step.to)->parent;
		assert_true(m[i].ctx & CLI_IN(parent));
	}
}

static void test_paths_match_prompts(void **state)
{
	char p[128];
	enum cli_ctx c;
	cli_export_ctx_path(CLI_CTX_ROOT, p, sizeof p);
	assert_string_equal(p, "");
	cli_export_ctx_path(CLI_CTX_QUOTAS, p, sizeof p);
	assert_string_equal(p, "domain-account-quotas");
	cli_export_ctx_path(CLI_CTX_DOMAIN_CREATE, p, sizeof p);
	assert_string_equal(p, "domain-create");
	for (int i = 0; i < CLI_CTX__COUNT; i++) {
		cli_export_ctx_path((enum cli_ctx)i, p, sizeof p);
		assert_true(cli_export_ctx_by_path(p, &c));
		assert_int_equal(c, i);
	}
	assert_false(cli_export_ctx_by_path("account", &c));
	assert_true(cli_export_ctx_by_path("password", &c));
	assert_int_equal(c, CLI_CTX_LOGIN);
}

static void test_kinds_and_steps(void **state)
{
	int nc;
	const struct cli_cmd *c = cli_commands(&nc);
	bool saw_destructive = false;
	for (int k = 0; k < nc; k++) {
		enum cli_kind kind = cli_export_kind(&c[k]);
		if (c[k].flags & CLI_DESTRUCTIVE) {
			assert_int_equal(kind, CLI_KIND_DESTRUCTIVE);
			saw_destructive = true;
		}
		assert_true(strlen(cli_export_kind_name(kind)) > 0);
		if (!strcmp(c[k].words, "COMMIT"))
			for (int cx = 0; cx < CLI_CTX__COUNT; cx++)
				if (c[k].ctx & CLI_IN(cx))
					assert_int_equal(cli_export_step((enum cli_ctx)cx, &c[k]).move, CLI_MOVE_COMMIT);
		if (!strcmp(c[k].words, "LIST Domains"))
			assert_int_equal(cli_export_step(CLI_CTX_ROOT, &c[k]).move, CLI_MOVE_STAY);
	}
	assert_true(saw_destructive);
	char alt[32];
	cli_export_first_alt("postmasterPassword|postmasterPasswd", alt, sizeof alt);
	assert_string_equal(alt, "postmasterPassword");
}

/* The movement metadata lives in the table: every context but login and
 * root can be left (BACK), each object context by exactly one of COMMIT or
 * DONE, every context but login/root is entered by some row, and RESET is
 * marked disruptive wherever it exists. */
static void test_table_metadata(void **state)
{
	int nc;
	const struct cli_cmd *c = cli_commands(&nc);
	for (int cx = CLI_CTX_ROOT + 1; cx < CLI_CTX__COUNT; cx++) {
		bool back = false, commit = false, done = false, entered = false;
		for (int k = 0; k < nc; k++) {
			enum cli_go g = cli_cmd_go(&c[k]);
			if (c[k].ctx & CLI_IN(cx)) {
				back |= g == CLI_GO_BACK;
				commit |= g == CLI_GO_COMMIT;
				done |= g == CLI_GO_DONE;
			}
			if ((g == CLI_GO_ENTER || g == CLI_GO_SWITCH) && (int)cli_cmd_to(&c[k]) == cx)
				entered = true;
		}
		if (!back || !entered)
			fail_msg("context %d: back=%d entered=%d", cx, back, entered);
		assert_false(commit && done);
		assert_int_equal(cli_ctx_is_sub((enum cli_ctx)cx), done);
	}
	for (int k = 0; k < nc; k++) {
		if (!strcasecmp(c[k].words, "RESET") && c[k].args[0].kind == CLI_ARG_NONE)
			assert_true(c[k].flags & CLI_DISRUPTIVE);
		if (!strcasecmp(c[k].words, "STOP Service"))
			assert_true(c[k].flags & CLI_DISRUPTIVE);
		if (c[k].flags & CLI_DISRUPTIVE)
			assert_int_equal(cli_export_kind(&c[k]), CLI_KIND_DESTRUCTIVE);
		if (cli_cmd_go(&c[k]) == CLI_GO_ENTER)
			assert_int_equal(cli_export_step(CLI_CTX_ROOT, &c[k]).to, cli_cmd_to(&c[k]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moves_name_real_commands),
		cmocka_unit_test(test_enter_targets_have_the_right_parent),
		cmocka_unit_test(test_paths_match_prompts),
		cmocka_unit_test(test_kinds_and_steps),
		cmocka_unit_test(test_table_metadata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tern - the Tern admin client.
 *
 *   tern [options] "COMMAND" ...          CLI commands (port 7000)
 *   tern [options] --script FILE          CLI commands from a file
 *   tern [options] --stdin                CLI commands from stdin
 *   tern [options] --get-version          GET VERSION before login
 *   tern [options]                        (on a terminal) an interactive session
 *   tern check [--json] [--ctrl] FILE     a CLI (or controller) script checked offline
 *   tern reference [--markdown|--json]    the CLI command reference
 *   tern ctrl ...                         the XMail controller protocol
 *                                         (ctrl_client.c; same options, plus
 *                                         --tls and --clear)
 *   tern --version
 *
 * CLI options (each with its environment fallbacks, first set wins):
 *   --host H   TERN_HOST, AXIGEN_HOST (default 127.0.0.1)
 *   --port P   TERN_PORT, AXIGEN_PORT (default 7000, 7001 with --ssl)
 *   --user U   TERN_USER, AXIGEN_USER (default admin)
 *   --pass P   TERN_PASS, AXIGEN_PASS (else asked on the terminal)
 *   --ssl                    AXIGEN_SSL: implicit TLS, certificate checked
 *   --ssl-allow-self-signed  AXIGEN_SSL_ALLOW_SELF_SIGNED
 *   --ssl-allow-expired      AXIGEN_SSL_ALLOW_EXPIRED
 *   --ca FILE                trust this CA (PEM) besides the system's
 *   --json, --continue-on-error, --yes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/version.h"
#include "tern.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern [options] COMMAND...          run CLI commands (each argument is one line)\n"
		"       tern [options] --script FILE       run the CLI commands of FILE\n"
		"       tern [options] --stdin             run the CLI commands read from stdin\n"
		"       tern [options] --get-version       print the server's version (no login)\n"
		"       tern [options]                     an interactive session (on a terminal)\n"
		"       tern check [--json] [--ctrl] FILE  check a CLI (--ctrl: a controller) script offline\n"
		"       tern reference [--markdown|--json] print the CLI command reference\n"
		"       tern ctrl [options] COMMAND [ARG...]  one XMail controller command (port 6017)\n"
		"       tern ctrl [options] --script FILE | --stdin   TAB-separated controller commands\n"
		"                                          (tern ctrl --help: also --tls for the #!TLS upgrade,\n"
		"                                          --clear for a clear-text login)\n"
		"       tern --version\n"
		"options: --host H --port P --user U --pass P (env TERN_*/AXIGEN_* HOST, PORT, USER, PASS)\n"
		"         --ssl --ssl-allow-self-signed --ssl-allow-expired --ca FILE\n"
		"         (env AXIGEN_SSL, AXIGEN_SSL_ALLOW_SELF_SIGNED, AXIGEN_SSL_ALLOW_EXPIRED)\n"
		"         --json --continue-on-error --yes (run destructive commands without asking)\n"
		"exit status: 0 ok, 1 a command failed or was refused, 2 no connection or login\n");
}

static int cli_mode(int argc, char **argv)
{
	struct cli_opts o = {0};
	o.host = tern_env2("TERN_HOST", "AXIGEN_HOST");
	o.port = tern_env2("TERN_PORT", "AXIGEN_PORT");
	o.user = tern_env2("TERN_USER", "AXIGEN_USER");
	o.pass = tern_env2("TERN_PASS", "AXIGEN_PASS");
	o.ssl = tern_env_true("AXIGEN_SSL");
	o.tls.allow_self_signed = tern_env_true("AXIGEN_SSL_ALLOW_SELF_SIGNED");
	o.tls.allow_expired = tern_env_true("AXIGEN_SSL_ALLOW_EXPIRED");
	char **cmds = calloc((size_t)argc + 1, sizeof *cmds);
	if (!cmds)
		abort();
	bool opts_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (opts_done || a[0] != '-' || a[1] != '-') {
			cmds[o.ncommands++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			opts_done = true;
		} else if (!strcmp(a, "--host") && has) {
			o.host = argv[++i];
		} else if (!strcmp(a, "--port") && has) {
			o.port = argv[++i];
		} else if (!strcmp(a, "--user") && has) {
			o.user = argv[++i];
		} else if (!strcmp(a, "--pass") && has) {
			o.pass = argv[++i];
		} else if (!strcmp(a, "--ca") && has) {
			o.tls.ca_file = argv[++i];
		} else if (!strcmp(a, "--script") && has) {
			o.script = argv[++i];
		} else if (!strcmp(a, "--stdin")) {
			o.from_stdin = true;
		} else if (!strcmp(a, "--ssl")) {
			o.ssl = true;
		} else if (!strcmp(a, "--ssl-allow-self-signed")) {
			o.tls.allow_self_signed = true;
		} else if (!strcmp(a, "--ssl-allow-expired")) {
			o.tls.allow_expired = true;
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "--continue-on-error")) {
			o.keep_going = true;
		} else if (!strcmp(a, "--yes")) {
			o.yes = true;
		} else if (!strcmp(a, "--get-version")) {
			o.get_version = true;
		} else {
			fprintf(stderr, "tern: unknown option or missing value: %s\n", a);
			usage(stderr);
			free(cmds);
			return 2;
		}
	}
	o.commands = cmds;
	int sources = (o.ncommands > 0) + (o.script != NULL) + o.from_stdin;
	if (!sources && !o.get_version && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		o.interactive = true;
		sources = 1;
	}
	if ((!o.get_version && sources != 1) || (o.get_version && sources)) {
		usage(stderr);
		free(cmds);
		return 2;
	}
	if (!o.host)
		o.host = "127.0.0.1";
	if (!o.port)
		o.port = o.ssl ? "7001" : "7000";
	if (!o.user)
		o.user = "admin";
	char typed[512] = "";
	if (!o.pass && !o.get_version) {
		char prompt[300];
		snprintf(prompt, sizeof prompt, "Password for %s@%s: ", o.user, o.host);
		if (!tern_ask_password(prompt, typed, sizeof typed)) {
			fprintf(stderr, "tern: no password (--pass, TERN_PASS or AXIGEN_PASS, or a terminal)\n");
			free(cmds);
			return 2;
		}
		o.pass = typed;
	}
	if (!o.pass)
		o.pass = "";
	int rc = cli_client_main(&o);
	tern_wipe(typed, sizeof typed);
	free(cmds);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("tern %s\n", TERN_VERSION);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "ctrl"))
		return ctrl_main(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check_main(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "reference"))
		return reference_main(argc - 2, argv + 2);
	return cli_mode(argc - 1, argv + 1);
}

/*
 * ctrl_output - what `tern ctrl` prints for each command.
 *
 *   ctrl_print_json        one JSON object: command (passwords masked by the
 *                          caller), line, status, code, message, data, rows
 *                          (record listings split at TABs, one quote off each
 *                          end of every field; null for file listings and
 *                          answers without a listing)
 *   ctrl_print_transcript  "ctrl> " and the line, then the answer as on the
 *                          wire (dot-stuffed listing and its final ".")
 *   ctrl_print_plain       one command without --json: the listing alone on
 *                          stdout, as CtrlClnt prints it; errors on stderr
 * A command refused or not sent by the client (local_err) has no code.
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"

static void json_rows(FILE *f, const struct ctrl_reply *r)
{
	fputc('[', f);
	for (int i = 0; i < r->data.n; i++) {
		char *raw[CTRL_FIELDS_MAX], *val[CTRL_FIELDS_MAX];
		int n = ctrl_split(r->data.v[i], raw, val, CTRL_FIELDS_MAX);
		fputs(i ? ",[" : "[", f);
		for (int j = 0; j < n; j++) {
			/* listings do not escape: one quote off each end */
			const char *s = raw[j];
			size_t len = strlen(s);
			if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
				s++;
				len -= 2;
			}
			if (j)
				fputc(',', f);
			json_strn(f, s, len);
		}
		fputc(']', f);
		ctrl_split_free(raw, val, n);
	}
	fputc(']', f);
}

void ctrl_print_json(const char *shown, int lineno, const struct ctrl_reply *r, const struct ctrl_info *ci,
		       const char *local_err)
{
	FILE *f = stdout;
	fputs("{\"command\":", f);
	json_str(f, shown);
	if (lineno > 0)
		fprintf(f, ",\"line\":%d", lineno);
	bool ok = !local_err && r && r->ok;
	fprintf(f, ",\"status\":\"%s\",\"code\":", ok ? "ok" : "error");
	json_str(f, !local_err && r && r->code[0] ? r->code : NULL);
	fputs(",\"message\":", f);
	json_str(f, local_err ? local_err : r ? r->message : "");
	fputs(",\"data\":[", f);
	for (int i = 0; !local_err && r && i < r->data.n; i++) {
		if (i)
			fputc(',', f);
		json_str(f, r->data.v[i]);
	}
	fputs("],\"rows\":", f);
	if (!local_err && r && r->listing && !ci->file_listing)
		json_rows(f, r);
	else
		fputs("null", f);
	fputs("}\n", f);
	fflush(f);
}

void ctrl_print_transcript(const char *shown, const struct ctrl_reply *r, const char *local_err)
{
	if (shown)
		printf("ctrl> %s\n", shown);
	if (local_err) {
		printf("(not sent: %s)\n", local_err);
	} else if (r->code[0]) {
		printf("%s%s%s\n", r->code, r->message[0] ? " " : "", r->message);
		for (int i = 0; r->listing && i < r->data.n; i++)
			printf("%s%s\n", r->data.v[i][0] == '.' ? "." : "", r->data.v[i]);
		if (r->listing)
			printf(".\n");
	} else {
		printf("(%s)\n", r->message);
	}
	fflush(stdout);
}

/* One command given on the command line, without --json: the listing
 * alone on stdout, as CtrlClnt prints it. */
void ctrl_print_plain(const struct ctrl_reply *r, const char *local_err)
{
	if (local_err)
		fprintf(stderr, "tern: %s\n", local_err);
	else if (!r->code[0])
		fprintf(stderr, "tern: %s\n", r->message);
	else if (!r->ok)
		fprintf(stderr, "%s %s\n", r->code, r->message);
	for (int i = 0; !local_err && r->listing && i < r->data.n; i++)
		printf("%s\n", r->data.v[i]);
	fflush(stdout);
}

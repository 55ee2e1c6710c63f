/*
 * libFuzzer target: the CLI's input path from raw bytes to a parsed
 * command - telnet decoding and line framing (fed in two chunks split at a
 * point the input chooses, so every truncation point is reached), line
 * checks, tokenising, matching against the command table in every context,
 * argument parsing and the HELP syntax of the matched command.
 *
 * Invariants checked: lines never exceed the limit; tokens lie inside the
 * line buffer; parsed values are tokens of the line; a matched command is
 * valid in the context it was matched for; the SET tail starts inside the
 * tokens.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/cli.h"

#define MAX_LINE 256

static void parse_line(const char *text, size_t len)
{
	char *line = malloc(len + 1);
	memcpy(line, text, len);
	line[len] = '\0';
	if (cli_line_check(line, len) != CLI_LINE_OK) {
		free(line);
		return;
	}
	struct cli_tokens t;
	if (cli_tokenize(line, &t) != CLI_TOK_OK) {
		free(line);
		return;
	}
	for (int i = 0; i < t.n; i++) {
		if (t.v[i] < line || t.v[i] > line + len || t.v[i] + strlen(t.v[i]) > line + len)
			abort();
	}
	for (int cx = 0; cx < CLI_CTX__COUNT; cx++) {
		int nw = 0;
		enum cli_match why;
		const struct cli_cmd *cmd = cli_match((enum cli_ctx)cx, &t, &nw, &why);
		if (!cmd) {
			if (why == CLI_MATCH_OK)
				abort();
			continue;
		}
		if (!(cmd->ctx & CLI_IN(cx)) || nw < 1 || nw > t.n)
			abort();
		struct cli_parsed p;
		if (cli_args_parse(cmd, &t, nw, &p) == CLI_ARGS_OK) {
			for (int j = 0; j < CLI_MAX_SPEC; j++) {
				if (!p.val[j])
					continue;
				int k = 0;
				while (k < t.n && t.v[k] != p.val[j])
					k++;
				if (k == t.n)
					abort();
			}
			if (p.set_first >= 0 && (p.set_first < nw || p.set_first >= t.n))
				abort();
		}
		struct buf syn = BUF_INIT;
		cli_syntax(cmd, &syn);
		if (!syn.len)
			abort();
		buf_free(&syn);
		if (t.n > 1 && cx >= CLI_CTX_DOMAIN_CREATE)
			(void)cli_attr_find((enum cli_ctx)cx, t.v[1]);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	size_t split = data[0] % size;
	data++;
	size--;
	if (split > size)
		split = size;
	struct cli_reader r;
	cli_reader_init(&r, MAX_LINE);
	const uint8_t *chunks[2] = {data, data + split};
	size_t lens[2] = {split, size - split};
	for (int c = 0; c < 2; c++) {
		const uint8_t *p = chunks[c];
		size_t n = lens[c];
		while (n > 0) {
			size_t used = 0;
			enum cli_read st = cli_reader_feed(&r, p, n, &used);
			if (used == 0 || used > n)
				abort();
			p += used;
			n -= used;
			if (st == CLI_READ_LINE) {
				if (r.line.len > MAX_LINE)
					abort();
				parse_line(r.line.data ? r.line.data : "", r.line.len);
			}
		}
	}
	cli_reader_free(&r);
	return 0;
}

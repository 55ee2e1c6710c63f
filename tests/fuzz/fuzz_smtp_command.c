/* libFuzzer target: SMTP command lines and MAIL/RCPT paths with parameters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1100)
		return 0;
	char line[1101];
	memcpy(line, data, size);
	line[size] = '\0';
	struct smtp_cmd cmd;
	smtp_parse_command(line, &cmd);
	if (cmd.arg < line || cmd.arg > line + strlen(line))
		abort();
	struct smtp_path p;
	if (smtp_parse_path(cmd.arg, "FROM:", true, &p) == 0 && p.addr[0] && !smtp_addr_valid(p.addr))
		abort();
	if (smtp_parse_path(cmd.arg, "TO:", false, &p) == 0 && !p.addr[0])
		abort();
	return 0;
}

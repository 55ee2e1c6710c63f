/*
 * smtp_reply - strict parsing of reply lines.
 */
#include "smtp_reply.h"

int smtp_reply_line(const char *line, size_t len, int *code_r, bool *last_r, size_t *text_off_r)
{
	if (len < 3)
		return -1;
	for (int i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	if (line[0] < '2' || line[0] > '5')
		return -1;
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	bool last;
	size_t off;
	if (len == 3) {
		last = true;
		off = 3;
	} else if (line[3] == ' ' || line[3] == '-') {
		last = line[3] == ' ';
		off = 4;
	} else {
		return -1;
	}
	*code_r = code;
	*last_r = last;
	if (text_off_r)
		*text_off_r = off;
	return 0;
}

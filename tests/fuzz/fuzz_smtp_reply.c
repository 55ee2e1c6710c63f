/* libFuzzer target: the outbound client's reply-line parser. */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/queue/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int code;
	bool last;
	size_t off;
	if (smtp_reply_line((const char *)data, size, &code, &last, &off) == 0) {
		if (code < 200 || code > 599 || off > size || off < 3)
			abort();
		if (!last && (size < 4 || data[3] != '-'))
			abort();
	}
	return 0;
}

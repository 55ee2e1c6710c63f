/* libFuzzer target: the DATA state machine. Checks that feeding the same
 * input in one piece and split in two gives the same result, that output
 * never exceeds the limit, and that the end is only ever CR LF . CR LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = data[0] % (size);
	const char *in = (const char *)data + 1;
	size_t n = size - 1;
	if (cut > n)
		cut = n;
	struct smtp_data a, b;
	struct buf oa = BUF_INIT, ob = BUF_INIT;
	smtp_data_init(&a, 4096, 200);
	smtp_data_init(&b, 4096, 200);
	size_t ua = smtp_data_feed(&a, in, n, &oa);
	size_t ub = smtp_data_feed(&b, in, cut, &ob);
	if (!b.done)
		ub += smtp_data_feed(&b, in + cut, n - cut, &ob);
	if (ua != ub || a.done != b.done || oa.len != ob.len || (oa.len && memcmp(oa.data, ob.data, oa.len)))
		abort();
	if (oa.len > 4096)
		abort();
	if (a.done) {
		/* "\r\n.\r\n" at the end, or ".\r\n" right at the start */
		if (ua < 3 || memcmp(in + ua - 3, ".\r\n", 3) || (ua > 3 && (ua < 5 || memcmp(in + ua - 5, "\r\n", 2))))
			abort();
	}
	buf_free(&oa);
	buf_free(&ob);
	return 0;
}

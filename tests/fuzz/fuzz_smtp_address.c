/* libFuzzer target: the address checker and splitter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 600)
		return 0;
	char a[601];
	memcpy(a, data, size);
	a[size] = '\0';
	if (smtp_addr_valid(a)) {
		char l[256], d[256];
		if (!smtp_addr_split(a, l, sizeof l, d, sizeof d))
			abort(); /* a valid address always splits */
		if (strlen(l) > 64 || strlen(d) > 255)
			abort();
	}
	return 0;
}

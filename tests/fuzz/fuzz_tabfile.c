/* libFuzzer target: parsing and validating uploaded XMail tables. The first
 * byte selects the table. */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/admin/views.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *const *names = view_names();
	int n = 0;
	while (names[n])
		n++;
	const char *name = names[data[0] % n];
	int bad = 0;
	enum tern_err e = view_check_upload(name, (const char *)data + 1, size - 1, &bad);
	if (e == TERN_E_BAD_FILE && bad <= 0)
		abort();
	return 0;
}

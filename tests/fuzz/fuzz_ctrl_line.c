/* libFuzzer target: controller command line tokenising and command lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/tabline.h"
#include "../../src/ctrl/ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CTRL_MAX_LINE)
		return 0;
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	char *argv[CTRL_MAX_ARGS];
	int argc = tab_split(line, argv, CTRL_MAX_ARGS);
	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			/* every field must lie inside the line buffer */
			if (argv[i] < line || argv[i] > line + size)
				abort();
			(void)strlen(argv[i]);
		}
		const struct ctrl_cmd *cmd = ctrl_command_find(argv[0]);
		if (cmd && cmd->min_args < 1)
			abort();
	}
	free(line);
	return 0;
}

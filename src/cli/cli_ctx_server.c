#include "cli_ctx.h"
const struct cli_part cli_part_server = {NULL, 0, NULL, 0};

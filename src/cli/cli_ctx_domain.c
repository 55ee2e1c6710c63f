#include "cli_ctx.h"
const struct cli_part cli_part_domain = {NULL, 0, NULL, 0};

#include "cli_ctx.h"
const struct cli_part cli_part_aacl = {NULL, 0, NULL, 0};

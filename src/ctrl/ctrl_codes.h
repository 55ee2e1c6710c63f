/*
 * ctrl_codes - the one place where core errors become XMail result codes.
 *
 * ctrl_code() gives the five-digit code, ctrl_text() the fixed text XMail
 * uses for that number.
 */
#ifndef TERN_CTRL_CODES_H
#define TERN_CTRL_CODES_H

#include "../admin/errors.h"

int ctrl_code(enum tern_err e);
const char *ctrl_text(int code);

#endif

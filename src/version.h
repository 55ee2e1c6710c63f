#ifndef TERN_VERSION
#define TERN_VERSION "0.1.0"
#endif

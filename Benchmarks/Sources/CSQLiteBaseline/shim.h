#ifndef KINERJA_CSQLITE_SHIM_H
#define KINERJA_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif

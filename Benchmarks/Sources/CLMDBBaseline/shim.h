#ifndef KINERJA_CLMDB_SHIM_H
#define KINERJA_CLMDB_SHIM_H
#include <lmdb.h>
#endif

/*
 * svtest.h: a small harness for the unit tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "virerror.h"

typedef int (*svTestFunc)(const void *data);

static int svTestFailures;
static int svTestCount;

/* Runs one named case; a case returns 0 on success, -1 on failure. */
static inline void
svTestRun(const char *name, svTestFunc func, const void *data)
{
    int rc;

    svTestCount++;
    virResetLastError();
    rc = func(data);
    if (rc == 0) {
        printf("ok %d - %s\n", svTestCount, name);
    } else {
        virErrorPtr err = virGetLastError();
        svTestFailures++;
        printf("not ok %d - %s%s%s\n", svTestCount, name,
               err ? ": " : "", err ? err->message : "");
    }
}

static inline int
svTestDone(void)
{
    printf("1..%d\n", svTestCount);
    return svTestFailures ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define SV_CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return -1; \
        } \
    } while (0)

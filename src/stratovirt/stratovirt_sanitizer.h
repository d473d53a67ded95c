/*
 * stratovirt_sanitizer.h: make fork() safe in the AddressSanitizer test build
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/* Test builds with ASan only; a no-op in every other build. */
void virStratoVirtSanitizerForkSafe(void);

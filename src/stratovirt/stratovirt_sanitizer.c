/*
 * stratovirt_sanitizer.c: make fork() safe in the AddressSanitizer test build
 *
 * Test builds only (-Dtest_hooks=true with -Db_sanitize=address, what
 * `./run test --sanitize` makes). glibc's malloc takes its own locks around
 * fork(), so a child may allocate before exec; libvirt's child code does
 * (virExec: logging, the fd bitmap of the mass close). GCC 12's ASan runtime
 * does not: a thread that holds one of its allocator locks at the instant
 * another thread forks leaves that lock held for good in the child, whose
 * first allocation from that size class then waits forever, and the daemon
 * thread that forked waits for the child with the domain locked. Seen as a
 * wedged `virsh list` in test_restart under ASan.
 *
 * The runtime has the functions to take and release those locks (LSan's
 * own, used to stop the world for a leak check), but does not export them.
 * They are in its symbol table: look them up there, and install them around
 * fork() with pthread_atfork(), as newer sanitizer runtimes do themselves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "internal.h"
#include "stratovirt-config.h"
#include "stratovirt_sanitizer.h"

#if WITH_STRATOVIRT_TEST_HOOKS && defined(__SANITIZE_ADDRESS__)

# include <dlfcn.h>
# include <elf.h>
# include <fcntl.h>
# include <link.h>
# include <pthread.h>
# include <sys/mman.h>
# include <sys/stat.h>
# include <unistd.h>

# include "virlog.h"

VIR_LOG_INIT("stratovirt.stratovirt_sanitizer");

/* exported by every ASan runtime: tells which object the runtime is in */
extern void __asan_init(void);

typedef void (*virStratoVirtSanitizerFunc)(void);

/* LSan's allocator and stack depot locks (C++ names in the runtime) */
static const char *const sanitizerSymbols[] = {
    "_ZN6__lsan13LockAllocatorEv",
    "_ZN11__sanitizer17StackDepotLockAllEv",
    "_ZN11__sanitizer19StackDepotUnlockAllEv",
    "_ZN6__lsan15UnlockAllocatorEv",
};

enum {
    SANITIZER_LOCK_ALLOCATOR,
    SANITIZER_LOCK_DEPOT,
    SANITIZER_UNLOCK_DEPOT,
    SANITIZER_UNLOCK_ALLOCATOR,
    SANITIZER_NSYMBOLS,
};

static virStratoVirtSanitizerFunc sanitizerFuncs[SANITIZER_NSYMBOLS];


static void
stratovirtSanitizerBeforeFork(void)
{
    sanitizerFuncs[SANITIZER_LOCK_ALLOCATOR]();
    sanitizerFuncs[SANITIZER_LOCK_DEPOT]();
}


static void
stratovirtSanitizerAfterFork(void)
{
    sanitizerFuncs[SANITIZER_UNLOCK_DEPOT]();
    sanitizerFuncs[SANITIZER_UNLOCK_ALLOCATOR]();
}


/* Find each of sanitizerSymbols in the ELF symbol table of @path, an object
 * loaded at @base. Returns the number found. */
static size_t
stratovirtSanitizerLookup(const char *path, ElfW(Addr) base)
{
    struct stat st;
    const unsigned char *img;
    const ElfW(Ehdr) *eh;
    const ElfW(Shdr) *sh;
    size_t found = 0;
    size_t i;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(*eh)) {
        close(fd);
        return 0;
    }
    img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED)
        return 0;

    eh = (const ElfW(Ehdr) *)img;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(ElfW(Shdr)) ||
        eh->e_shoff > (size_t)st.st_size ||
        (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > (size_t)st.st_size - eh->e_shoff)
        goto cleanup;
    sh = (const ElfW(Shdr) *)(img + eh->e_shoff);

    for (i = 0; i < eh->e_shnum && found < SANITIZER_NSYMBOLS; i++) {
        const ElfW(Shdr) *strsh;
        const ElfW(Sym) *syms;
        size_t nsyms;
        size_t j;

        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        strsh = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > (size_t)st.st_size ||
            sh[i].sh_size > (size_t)st.st_size - sh[i].sh_offset ||
            strsh->sh_offset > (size_t)st.st_size ||
            strsh->sh_size > (size_t)st.st_size - strsh->sh_offset)
            continue;
        syms = (const ElfW(Sym) *)(img + sh[i].sh_offset);
        nsyms = sh[i].sh_size / sizeof(ElfW(Sym));

        for (j = 0; j < nsyms; j++) {
            const char *name;
            size_t k;

            if (ELF64_ST_TYPE(syms[j].st_info) != STT_FUNC ||
                syms[j].st_value == 0 || syms[j].st_name >= strsh->sh_size)
                continue;
            name = (const char *)img + strsh->sh_offset + syms[j].st_name;
            /* a name that runs off its string table is nobody's */
            if (!memchr(name, 0, strsh->sh_size - syms[j].st_name))
                continue;
            for (k = 0; k < SANITIZER_NSYMBOLS; k++) {
                if (!sanitizerFuncs[k] && STREQ(name, sanitizerSymbols[k])) {
                    sanitizerFuncs[k] = (virStratoVirtSanitizerFunc)(base + syms[j].st_value);
                    found++;
                }
            }
        }
    }

 cleanup:
    munmap((void *)img, st.st_size);
    return found;
}


void
virStratoVirtSanitizerForkSafe(void)
{
    static bool done;
    struct link_map *lm = NULL;
    Dl_info info;
    const char *path;

    if (done)
        return;
    done = true;

    if (!dladdr1((void *)__asan_init, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm) {
        VIR_WARN("sanitizer build: cannot tell where the ASan runtime is; fork() stays unsafe");
        return;
    }
    /* the main program's link map has an empty name */
    path = lm->l_name && *lm->l_name ? lm->l_name : "/proc/self/exe";

    if (stratovirtSanitizerLookup(path, lm->l_addr) != SANITIZER_NSYMBOLS) {
        VIR_WARN("sanitizer build: the ASan runtime %s lacks its lock functions "
                 "in its symbol table; fork() stays unsafe", path);
        return;
    }
    if (pthread_atfork(stratovirtSanitizerBeforeFork,
                       stratovirtSanitizerAfterFork,
                       stratovirtSanitizerAfterFork) != 0) {
        VIR_WARN("sanitizer build: pthread_atfork failed; fork() stays unsafe");
        return;
    }
    VIR_DEBUG("sanitizer build: ASan's allocator and stack depot are locked around fork() (%s)",
              path);
}

#else /* !(WITH_STRATOVIRT_TEST_HOOKS && __SANITIZE_ADDRESS__) */

void
virStratoVirtSanitizerForkSafe(void)
{
}

#endif

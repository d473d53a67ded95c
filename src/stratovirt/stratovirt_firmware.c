/*
 * stratovirt_firmware.c: UEFI firmware from the firmware descriptors
 *
 * Distributions describe their firmware images with the JSON interop
 * format of QEMU's docs/interop/firmware.json, installed under
 * /usr/share/qemu/firmware (Debian's ovmf and qemu-efi-aarch64 packages),
 * overridden from /etc/qemu/firmware and, for a session daemon,
 * $XDG_CONFIG_HOME/qemu/firmware.  libvirt reads them in its QEMU driver
 * (qemu_firmware.c), which libvirt.so does not export, so this is a small
 * reader of our own with the same rules: a file name in a higher priority
 * folder hides the same name below it, an empty file hides it without
 * replacing it, and the survivors are tried in the order of their names.
 *
 * What StratoVirt can use: "uefi" images mapped as "flash" in raw format,
 * split into code and variable store, for its machines (q35 matches the
 * descriptors' "pc-q35-*", virt matches "virt-*").  Images that need SMM
 * (every Secure Boot build of OVMF) are left out: StratoVirt has no SMM.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <fnmatch.h>

#include "configmake.h"
#include "stratovirt_compat.h"
#include "stratovirt_firmware.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virstring.h"
#include "virutil.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_firmware");


void
virStratoVirtFirmwareFree(virStratoVirtFirmware *fw)
{
    if (!fw)
        return;
    g_free(fw->descriptor);
    g_free(fw->executable);
    g_free(fw->nvramTemplate);
    g_free(fw);
}


/**
 * virStratoVirtFirmwareDefaultDirs:
 *
 * The folders holding firmware descriptors, highest priority first.
 */
char **
virStratoVirtFirmwareDefaultDirs(bool privileged)
{
    GPtrArray *dirs = g_ptr_array_new();

    if (!privileged) {
        g_autofree char *confdir = virGetUserConfigDirectory();
        g_autofree char *xdg = g_path_get_dirname(confdir);

        /* virGetUserConfigDirectory is $XDG_CONFIG_HOME/libvirt */
        g_ptr_array_add(dirs, g_strdup_printf("%s/qemu/firmware", xdg));
    }
    g_ptr_array_add(dirs, g_strdup(SYSCONFDIR "/qemu/firmware"));
    g_ptr_array_add(dirs, g_strdup(DATADIR "/qemu/firmware"));
    g_ptr_array_add(dirs, NULL);
    return (char **) g_ptr_array_free(dirs, false);
}


/* The descriptor files that count, in the order they are tried. */
static GPtrArray *
stratovirtFirmwareListFiles(const char *const *dirs)
{
    g_autoptr(GHashTable) byName = virHashNew(g_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    size_t i;

    for (i = 0; dirs && dirs[i]; i++) {
        g_autoptr(DIR) dir = NULL;
        struct dirent *ent;
        int rc;

        if ((rc = virDirOpenIfExists(&dir, dirs[i])) <= 0) {
            if (rc < 0)
                virResetLastError();
            continue;
        }
        while (virDirRead(dir, &ent, NULL) > 0) {
            if (!virStringHasSuffix(ent->d_name, ".json") ||
                g_hash_table_contains(byName, ent->d_name))
                continue;
            g_hash_table_insert(byName, g_strdup(ent->d_name),
                                g_strdup_printf("%s/%s", dirs[i], ent->d_name));
        }
    }

    {
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, byName);
        while (g_hash_table_iter_next(&iter, &key, NULL))
            g_ptr_array_add(names, key);
    }
    virStratoVirtCompatSortStrings(names);

    for (i = 0; i < names->len; i++) {
        const char *path = g_hash_table_lookup(byName, names->pdata[i]);
        struct stat sb;

        /* an empty file masks the descriptor of that name */
        if (stat(path, &sb) < 0 || sb.st_size == 0)
            continue;
        g_ptr_array_add(paths, g_strdup(path));
    }
    return paths;
}


static bool
stratovirtFirmwareStringIn(virJSONValue *array,
                           const char *want)
{
    size_t i;

    for (i = 0; array && i < virJSONValueArraySize(array); i++) {
        const char *s = virJSONValueGetString(virJSONValueArrayGet(array, i));

        if (s && STREQ(s, want))
            return true;
    }
    return false;
}


/* Does a descriptor's machine glob ("pc-q35-*") cover StratoVirt's
 * @machine? */
static bool
stratovirtFirmwareMachineMatches(const char *glob,
                                 const char *machine)
{
    const char *family = NULL;
    g_autofree char *versioned = NULL;

    if (STREQ(machine, "q35"))
        family = "pc-q35";
    else if (STREQ(machine, "virt"))
        family = "virt";
    else
        return false;

    versioned = g_strdup_printf("%s-", family);
    return fnmatch(glob, family, 0) == 0 || fnmatch(glob, versioned, 0) == 0;
}


static bool
stratovirtFirmwareTargetMatches(virJSONValue *targets,
                                virArch arch,
                                const char *machine)
{
    size_t i, j;

    for (i = 0; targets && i < virJSONValueArraySize(targets); i++) {
        virJSONValue *target = virJSONValueArrayGet(targets, i);
        const char *tarch = virJSONValueObjectGetString(target, "architecture");
        virJSONValue *machines = virJSONValueObjectGetArray(target, "machines");

        if (!tarch || virArchFromString(tarch) != arch)
            continue;
        for (j = 0; machines && j < virJSONValueArraySize(machines); j++) {
            const char *glob = virJSONValueGetString(virJSONValueArrayGet(machines, j));

            if (glob && stratovirtFirmwareMachineMatches(glob, machine))
                return true;
        }
    }
    return false;
}


/* One descriptor, or NULL (with a debug line saying why) when StratoVirt
 * cannot use it for @arch and @machine. */
static virStratoVirtFirmware *
stratovirtFirmwareParse(const char *path,
                        virArch arch,
                        const char *machine)
{
    g_autofree char *text = NULL;
    g_autoptr(virJSONValue) json = NULL;
    g_autoptr(virStratoVirtFirmware) fw = NULL;
    virJSONValue *mapping;
    virJSONValue *features;
    virJSONValue *executable;
    virJSONValue *nvram;
    const char *device;
    const char *mode;
    const char *format;

    if (virFileReadAll(path, 1024 * 1024, &text) < 0 ||
        !(json = virJSONValueFromString(text))) {
        VIR_WARN("Cannot read the firmware descriptor %s: %s", path,
                 virGetLastErrorMessage());
        virResetLastError();
        return NULL;
    }

    if (!stratovirtFirmwareStringIn(virJSONValueObjectGetArray(json, "interface-types"),
                                    "uefi")) {
        VIR_DEBUG("%s: not UEFI", path);
        return NULL;
    }
    if (!stratovirtFirmwareTargetMatches(virJSONValueObjectGetArray(json, "targets"),
                                         arch, machine)) {
        VIR_DEBUG("%s: not for %s %s", path, virArchToString(arch), machine);
        return NULL;
    }
    features = virJSONValueObjectGetArray(json, "features");
    if (stratovirtFirmwareStringIn(features, "requires-smm")) {
        VIR_DEBUG("%s: needs SMM, which StratoVirt does not have", path);
        return NULL;
    }
    if (!(mapping = virJSONValueObjectGetObject(json, "mapping")) ||
        !(device = virJSONValueObjectGetString(mapping, "device")) ||
        STRNEQ(device, "flash")) {
        VIR_DEBUG("%s: not a flash image", path);
        return NULL;
    }
    mode = virJSONValueObjectGetString(mapping, "mode");
    if (mode && STRNEQ(mode, "split")) {
        VIR_DEBUG("%s: flash mode '%s'; StratoVirt takes split code and variables",
                  path, mode);
        return NULL;
    }
    if (!(executable = virJSONValueObjectGetObject(mapping, "executable")) ||
        !(nvram = virJSONValueObjectGetObject(mapping, "nvram-template"))) {
        VIR_DEBUG("%s: no executable or no nvram-template", path);
        return NULL;
    }
    if (((format = virJSONValueObjectGetString(executable, "format")) &&
         STRNEQ(format, "raw")) ||
        ((format = virJSONValueObjectGetString(nvram, "format")) &&
         STRNEQ(format, "raw"))) {
        VIR_DEBUG("%s: not raw; StratoVirt's pflash is raw only", path);
        return NULL;
    }

    fw = g_new0(virStratoVirtFirmware, 1);
    fw->descriptor = g_strdup(path);
    fw->executable = g_strdup(virJSONValueObjectGetString(executable, "filename"));
    fw->nvramTemplate = g_strdup(virJSONValueObjectGetString(nvram, "filename"));
    fw->secureBoot = stratovirtFirmwareStringIn(features, "secure-boot");
    fw->enrolledKeys = stratovirtFirmwareStringIn(features, "enrolled-keys");
    if (!fw->executable || !fw->nvramTemplate) {
        VIR_DEBUG("%s: a file name is missing", path);
        return NULL;
    }
    return g_steal_pointer(&fw);
}


/**
 * virStratoVirtFirmwareFind:
 * @dirs: descriptor folders, highest priority first, NULL-terminated
 * @arch: guest architecture
 * @machine: StratoVirt machine type (q35, virt)
 *
 * Returns the UEFI images StratoVirt can boot @machine with, best first
 * (an array of virStratoVirtFirmware, maybe empty).
 */
GPtrArray *
virStratoVirtFirmwareFind(const char *const *dirs,
                          virArch arch,
                          const char *machine)
{
    g_autoptr(GPtrArray) files = stratovirtFirmwareListFiles(dirs);
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify) virStratoVirtFirmwareFree);
    size_t i;

    for (i = 0; i < files->len; i++) {
        virStratoVirtFirmware *fw;

        if ((fw = stratovirtFirmwareParse(files->pdata[i], arch, machine)))
            g_ptr_array_add(found, fw);
    }
    return found;
}


static bool
stratovirtFirmwareWanted(const virStratoVirtFirmware *fw,
                         const virDomainDef *def)
{
    int want;

    if (!def->os.firmwareFeatures)
        return true;
    want = def->os.firmwareFeatures[VIR_DOMAIN_OS_DEF_FIRMWARE_FEATURE_SECURE_BOOT];
    if (want != VIR_TRISTATE_BOOL_ABSENT &&
        (want == VIR_TRISTATE_BOOL_YES) != fw->secureBoot)
        return false;
    want = def->os.firmwareFeatures[VIR_DOMAIN_OS_DEF_FIRMWARE_FEATURE_ENROLLED_KEYS];
    if (want != VIR_TRISTATE_BOOL_ABSENT &&
        (want == VIR_TRISTATE_BOOL_YES) != fw->enrolledKeys)
        return false;
    return true;
}


static char *
stratovirtFirmwareDirsString(const char *const *dirs)
{
    g_autofree char *joined = g_strjoinv(", ", (char **) dirs);

    return g_steal_pointer(&joined);
}


/**
 * virStratoVirtFirmwareFillDomain:
 * @dirs: descriptor folders
 * @nvramDir: where per-domain variable stores live
 * @def: a definition of a standard machine
 *
 * Resolves <os firmware='efi'> (with its <firmware><feature/>s) into the
 * <loader> and <nvram> of a descriptor, the way libvirt's QEMU driver
 * does, and gives a pflash <loader> without <nvram> its variable store
 * (a path under @nvramDir, the template from the descriptor of that
 * image).  Afterwards the definition names its files: no autoselection
 * is left for later parses.  Returns 0, or -1 with an error.
 */
int
virStratoVirtFirmwareFillDomain(const char *const *dirs,
                                const char *nvramDir,
                                virDomainDef *def)
{
    virDomainLoaderDef *loader = def->os.loader;
    g_autoptr(GPtrArray) found = NULL;
    virStratoVirtFirmware *pick = NULL;
    size_t i;

    if (def->os.firmware == VIR_DOMAIN_OS_DEF_FIRMWARE_BIOS) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("<os firmware='bios'>: StratoVirt has no BIOS; use firmware='efi' (virt-install: --boot uefi) or boot a <kernel> directly"));
        return -1;
    }

    if (def->os.firmware == VIR_DOMAIN_OS_DEF_FIRMWARE_EFI &&
        (!loader || !loader->path)) {
        if (def->os.firmwareFeatures &&
            def->os.firmwareFeatures[VIR_DOMAIN_OS_DEF_FIRMWARE_FEATURE_SECURE_BOOT] ==
            VIR_TRISTATE_BOOL_YES) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                           _("<firmware><feature name='secure-boot' enabled='yes'/>: Secure Boot firmware needs SMM, which StratoVirt does not have; use enabled='no' (virt-install: --boot uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=no)"));
            return -1;
        }
        if (loader && loader->nvram && !loader->nvram->path) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                           _("<nvram>: StratoVirt needs a local file for the UEFI variable store"));
            return -1;
        }

        found = virStratoVirtFirmwareFind(dirs, def->os.arch, def->os.machine);
        for (i = 0; i < found->len && !pick; i++) {
            if (stratovirtFirmwareWanted(found->pdata[i], def))
                pick = found->pdata[i];
        }
        if (!pick) {
            g_autofree char *where = stratovirtFirmwareDirsString(dirs);

            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("no UEFI firmware for StratoVirt's %1$s machine on %2$s found in the firmware descriptors of %3$s: install the %4$s package, give a <loader type='pflash'>, or boot a <kernel> directly (virt-install: --boot kernel=...)"),
                           def->os.machine, virArchToString(def->os.arch), where,
                           def->os.arch == VIR_ARCH_AARCH64 ? "qemu-efi-aarch64" : "ovmf");
            return -1;
        }
        VIR_DEBUG("Domain %s boots UEFI from %s (descriptor %s)",
                  def->name, pick->executable, pick->descriptor);

        if (!loader)
            loader = def->os.loader = g_new0(virDomainLoaderDef, 1);
        loader->type = VIR_DOMAIN_LOADER_TYPE_PFLASH;
        loader->readonly = VIR_TRISTATE_BOOL_YES;
        loader->path = g_strdup(pick->executable);
        if (!loader->nvramTemplate)
            loader->nvramTemplate = g_strdup(pick->nvramTemplate);

        /* resolved: later parses see plain loader paths (libvirt 9.0's
         * validation refuses a loader path next to firmware='efi') */
        def->os.firmware = VIR_DOMAIN_OS_DEF_FIRMWARE_NONE;
        g_clear_pointer(&def->os.firmwareFeatures, g_free);
    }

    if (!loader || loader->type != VIR_DOMAIN_LOADER_TYPE_PFLASH ||
        loader->readonly != VIR_TRISTATE_BOOL_YES)
        return 0;

    /* A read-only code image gets a variable store of its own when there
     * is a template to create it from: the one given, or the one of the
     * descriptor of that image.  Without either, the loader stays alone
     * (StratoVirt's own sample XML boots that way). */
    if (!loader->nvramTemplate) {
        if (!found)
            found = virStratoVirtFirmwareFind(dirs, def->os.arch, def->os.machine);
        for (i = 0; i < found->len; i++) {
            virStratoVirtFirmware *fw = found->pdata[i];

            if (STREQ_NULLABLE(fw->executable, loader->path)) {
                loader->nvramTemplate = g_strdup(fw->nvramTemplate);
                break;
            }
        }
    }
    if (!loader->nvramTemplate && !loader->nvram)
        return 0;
    if (!loader->nvram) {
        loader->nvram = virStorageSourceNew();
        loader->nvram->type = VIR_STORAGE_TYPE_FILE;
    }
    if (loader->nvram->type == VIR_STORAGE_TYPE_FILE && !loader->nvram->path)
        loader->nvram->path = g_strdup_printf("%s/%s_VARS.fd", nvramDir, def->name);
    return 0;
}

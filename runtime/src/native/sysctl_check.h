/* The sysctls a container may set (runc's rules). */
#pragma once

struct husk_err;
struct husk_linux;

/*
 * Refuse a linux.sysctl entry that no namespace of the container isolates: ipc sysctls
 * (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) without an ipc namespace, net.* in the
 * current network namespace (none in the spec, or a path that is ours), kernel.domainname
 * without a uts namespace, kernel.hostname always, anything else always. HUSK_ERR_INVALID
 * with runc's words. NULL lx: nothing to check.
 */
int husk__sysctl_check(const struct husk_linux *lx, struct husk_err *err);

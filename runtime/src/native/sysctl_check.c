/*
 * Which sysctls a container may set: only those its own namespaces isolate, as runc's
 * validator decides. A sysctl written through the container's /proc/sys otherwise changes
 * the host (vm.swappiness, or net.* in the host's network namespace).
 */
#include "native/sysctl_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>

#include "husk/err.h"
#include "husk/spec.h"

/* IPC namespace sysctls (besides fs.mqueue.*), as runc lists them. */
static const char *const ipc_sysctls[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static const struct husk_namespace *ns_of(const struct husk_linux *lx, enum husk_ns_type t)
{
	for (size_t i = 0; lx && i < lx->n_namespaces; i++)
		if (lx->namespaces[i].type == t)
			return &lx->namespaces[i];
	return NULL;
}

/* A network namespace joined by path that is the one this process runs in ("host" means
 * the current one, as in runc). */
static bool is_current_netns(const char *path)
{
	struct stat a;
	struct stat b;

	return stat(path, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static bool is_ipc_sysctl(const char *k)
{
	if (strncmp(k, "fs.mqueue.", strlen("fs.mqueue.")) == 0)
		return true;
	for (size_t i = 0; i < sizeof(ipc_sysctls) / sizeof(ipc_sysctls[0]); i++)
		if (strcmp(k, ipc_sysctls[i]) == 0)
			return true;
	return false;
}

static int check_one(const struct husk_linux *lx, const char *key, struct husk_err *err)
{
	char k[256];
	const struct husk_namespace *ns;

	/* "net/ipv4/ip_forward" is the same knob as "net.ipv4.ip_forward". */
	if (snprintf(k, sizeof(k), "%s", key) >= (int)sizeof(k))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "linux.sysctl: key too long");
	for (char *c = k; *c; c++)
		if (*c == '/')
			*c = '.';
	if (is_ipc_sysctl(k)) {
		if (ns_of(lx, HUSK_NS_IPC))
			return 0;
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "sysctl \"%s\" is not allowed in the hosts ipc namespace", key);
	}
	if (strncmp(k, "net.", 4) == 0) {
		ns = ns_of(lx, HUSK_NS_NETWORK);
		if (ns && (!ns->path || !is_current_netns(ns->path)))
			return 0;
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "sysctl \"%s\" not allowed in host network namespace", key);
	}
	if (ns_of(lx, HUSK_NS_UTS)) {
		if (strcmp(k, "kernel.domainname") == 0)
			return 0;
		if (strcmp(k, "kernel.hostname") == 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "sysctl \"%s\" is not allowed as it conflicts with the "
					    "OCI \"hostname\" field",
					    key);
	}
	return husk_err_set(err, HUSK_ERR_INVALID, 0,
			    "sysctl \"%s\" is not in a separate kernel namespace", key);
}

int husk__sysctl_check(const struct husk_linux *lx, struct husk_err *err)
{
	for (size_t i = 0; lx && i < lx->n_sysctl; i++) {
		int r = check_one(lx, lx->sysctl[i].key, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Engine dispatch behind the public lifecycle API (husk/container.h). container.c owns the
 * generic part (ids, spec, state file, status machine, hooks) and the handles every engine
 * has: the init's pidfd and the container's cgroup (with its OOM fd), opened by the core on
 * load and released by it on free. An engine creates the processes and the cgroup and keeps
 * only what is its own in engine_data. The engines are leaves: runtime/src/native/ and
 * runtime/src/oci/ include nothing of each other (hack/lint.sh), and what both use (the
 * cgroup service, the fork recipe) lives beside this file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "husk/container.h"
#include "husk/process.h"

struct husk_spec;
struct husk_state_handle;
struct husk_state_root;
struct husk_cgroup;
struct husk_cgroup_stats;

struct husk_runtime {
	struct husk_state_root *root;
	char *engine; /* "native" or "oci" */
	char *oci_binary;
	char *oci_root;
	char **oci_args; /* NULL-terminated; NULL = none */
	size_t n_oci_args;
	bool systemd_cgroup;
	bool no_new_keyring;
	bool no_pivot_root;
};

struct husk_container {
	struct husk_runtime *rt;
	const struct husk_engine_ops *ops;
	struct husk_state_handle *state; /* holds the container's flock */
	struct husk_spec *spec;		 /* NULL when the bundle's config.json is gone */
	struct husk_child init;		 /* pidfd -1 when not ours or gone */
	/* The container's cgroup, which holds its OOM fd (husk_container_oom_fd()): made by
	 * the engine's create, opened from the state's cgroup_path on load; NULL when there is
	 * none or it is gone. */
	struct husk_cgroup *cgroup;
	int console;	   /* pty master until taken, else -1 */
	void *engine_data; /* the engine's */
};

/* The engine's share of HUSK_CONTAINER_HANDOFF_FDS (the console comes first). */
#define HUSK_ENGINE_HANDOFF_FDS (HUSK_CONTAINER_HANDOFF_FDS - 1)

struct husk_engine_ops {
	const char *name;
	/* The engine's runtime runs the spec's hooks itself (an OCI runtime binary does). */
	bool runs_hooks;
	/* Create everything after the state file exists (status Creating); on failure undo
	 * everything it did. Sets c->init and the state's pids and cgroup path. */
	int (*create)(struct husk_container *c, const struct husk_create_opts *opts,
		      struct husk_err *err);
	/* Attach the engine's own data to an existing container after husk_container_load()
	 * has opened the init's pidfd and the cgroup. */
	int (*load)(struct husk_container *c, struct husk_err *err);
	int (*start)(struct husk_container *c, struct husk_err *err);
	int (*exec)(struct husk_container *c, const struct husk_exec_opts *opts,
		    struct husk_child *ret_child, int *ret_console, struct husk_err *err);
	/* Build what every exec needs (husk_container_exec_prepare); NULL: nothing. */
	int (*exec_prepare)(struct husk_container *c, struct husk_err *err);
	int (*kill)(struct husk_container *c, int sig, bool all, struct husk_err *err);
	int (*freeze)(struct husk_container *c, bool frozen, struct husk_err *err);
	int (*update)(struct husk_container *c, const struct husk_resources *res,
		      struct husk_err *err);
	int (*pids)(struct husk_container *c, pid_t **ret_pids, size_t *ret_n,
		    struct husk_err *err);
	int (*stats)(struct husk_container *c, struct husk_cgroup_stats *ret, struct husk_err *err);
	/* Kill what is left, wait for it, remove the cgroup. Idempotent. */
	int (*destroy)(struct husk_container *c, struct husk_err *err);
	/* The engine's fds a handle loaded from the state file cannot reopen
	 * (husk_container_handoff): moved to ret_fds, -1 where none. NULL: the engine holds none.
	 */
	void (*handoff)(struct husk_container *c, int ret_fds[HUSK_ENGINE_HANDOFF_FDS]);
	/* Take them over in a handle from load (husk_container_adopt). */
	void (*adopt)(struct husk_container *c, int fds[HUSK_ENGINE_HANDOFF_FDS]);
	/* After husk_container_reload(): drop what another process's call made useless (the
	 * native init's start socket once the container has started). NULL: nothing. */
	void (*reloaded)(struct husk_container *c);
	/* Free engine_data (NULL allowed). */
	void (*free)(struct husk_container *c);
};

extern const struct husk_engine_ops husk__native_engine;
extern const struct husk_engine_ops husk__oci_engine;

/* Save the state file; the container's lock is held. */
int husk__container_save(struct husk_container *c, struct husk_err *err);

/* True once the init has exited (its pidfd is readable; without a pidfd, once the recorded
 * pid with its start time is gone). */
bool husk__container_init_exited(const struct husk_container *c);

/* Wait at most timeout_ms for the init to exit (nothing to wait for without a pidfd); it is
 * reaped by whoever reaps our children. */
void husk__container_wait_init(const struct husk_container *c, int timeout_ms);

/* SIGKILL every process of the container's cgroup, descendants included, thawed first so
 * that none stays frozen. No cgroup: 0. Otherwise as husk__cgroup_kill_all(). */
int husk__container_cgroup_kill(struct husk_container *c, int timeout_ms, struct husk_err *err);

/* Remove the container's cgroup (nested ones too) and free its handle; idempotent. Live
 * processes still in it after timeout_ms: HUSK_ERR_PRECONDITION, the handle kept. */
int husk__container_cgroup_remove(struct husk_container *c, int timeout_ms, struct husk_err *err);

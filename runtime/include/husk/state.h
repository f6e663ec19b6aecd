/*
 * Per-container state files: <root>/<cid>_sandbox:<sid>.state (JSON) and .lock (flock).
 * Writes are atomic (O_EXCL temp, renameat): a crash of the writer leaves the old or the new
 * file. They are not fsync'ed: a state file describes processes that a power loss kills
 * anyway, and the boot id it records tells a file of an earlier boot from a current one.
 * Readers that only look never block behind a writer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "husk/id.h"
#include "husk/status.h"

struct husk_err;

/* Upper bound of a state file; a larger one is corrupt. */
#define HUSK_STATE_MAX_SIZE (1u << 20)

/* /proc/sys/kernel/random/boot_id: a UUID, 36 characters. */
#define HUSK_BOOT_ID_LEN 36

/* What a state file records: enough to clean up after a crash with no shim alive. */
struct husk_state {
	struct husk_full_id id;
	char *bundle; /* absolute bundle path */
	enum husk_status status;
	int64_t created_ns; /* CLOCK_REALTIME ns of creation */
	uid_t owner;	    /* euid of the creator */
	char *engine;	    /* "native" or "oci" */
	char *cgroup_path;  /* cgroupfs path relative to each hierarchy's root; NULL if none */
	pid_t init_pid;	    /* 0 until known */
	uint64_t init_start_time;
	pid_t gofer_pid; /* 0 once reaped */
	uint64_t gofer_start_time;
	bool exited;	   /* exit status known */
	int exit_status;   /* 128+sig for a signal death, as containerd expects */
	int64_t exited_ns; /* CLOCK_REALTIME ns */
	char *engine_data; /* engine-private JSON text (e.g. oci: binary, root); NULL if none */
	/* The kernel boot the file was written in; "" in files of older versions. */
	char boot_id[HUSK_BOOT_ID_LEN + 1];
	/*
	 * Not in the file: set on load when boot_id names an earlier boot. Such a state is
	 * reported Stopped with its pids and start times zeroed (they name processes of another
	 * boot), and its cgroup path is not to be touched.
	 */
	bool stale;
};

/*
 * The running kernel's boot id into ret (read once per process). -errno when /proc cannot
 * tell, and then no file is ever judged stale.
 */
int husk_boot_id(char ret[HUSK_BOOT_ID_LEN + 1]);

/* A state directory (created 0711 on open if missing). */
struct husk_state_root;

/* Open (mkdir -p) the root dir. */
int husk_state_root_open(const char *path, struct husk_state_root **ret, struct husk_err *err);
struct husk_state_root *husk_state_root_free(struct husk_state_root *root);
const char *husk_state_root_path(const struct husk_state_root *root);

/* A loaded, possibly locked container state. */
struct husk_state_handle;

/*
 * Create the files of a new container: takes the flock of <id>.lock, fails with
 * HUSK_ERR_EXISTS if <id>.state already exists (removing nothing it did not create), then
 * writes state (status Creating expected) with the current boot id. A state file of the
 * same id from an earlier boot is stale: it is removed (with a warn line) and the create
 * goes on. The handle holds the lock until released.
 */
int husk_state_create(struct husk_state_root *root, const struct husk_state *state,
		      struct husk_state_handle **ret, struct husk_err *err);

/*
 * Load by exact full id. lock: take the flock (blocking) and keep it in the handle.
 * HUSK_ERR_NOT_FOUND when there is no such file; HUSK_ERR_INVALID when it is corrupt.
 * Status is corrected on load: Created/Running/Paused with the init gone (pid missing, or
 * start time differs) is reported Stopped, with a warn log line; a file from an earlier boot
 * is stale (see struct husk_state).
 */
int husk_state_load(struct husk_state_root *root, const struct husk_full_id *id, bool lock,
		    struct husk_state_handle **ret, struct husk_err *err);

/*
 * Load by container ID or by a unique prefix of one (across all sandboxes). Exact match
 * wins over prefix matches. HUSK_ERR_NOT_FOUND when none; HUSK_ERR_INVALID
 * "ambiguous container id prefix '<p>': matches '<a>' and '<b>'" when several.
 */
int husk_state_find(struct husk_state_root *root, const char *id_or_prefix, bool lock,
		    struct husk_state_handle **ret, struct husk_err *err);

/* The state (mutable through the handle; husk_state_save() persists it). */
struct husk_state *husk_state_handle_state(struct husk_state_handle *h);

/* Take the flock now (if the handle was loaded without it). */
int husk_state_lock(struct husk_state_handle *h, struct husk_err *err);

/*
 * Replace the handle's state with what the file holds now, corrected as on load (another
 * process — the husk CLI, containerd's delete action — may have changed it). With the lock
 * held, the state then stays what it acts on until the next save. The handle's state is
 * untouched on failure: HUSK_ERR_NOT_FOUND "container '<id>' was deleted" when the file is
 * gone, HUSK_ERR_INVALID when it is corrupt.
 */
int husk_state_reload(struct husk_state_handle *h, struct husk_err *err);

/*
 * Release the flock; the handle stays usable. A long-lived handle (a shim's container)
 * holds the lock only while it writes, so another process — containerd's `delete` action
 * or the husk CLI — is never blocked behind it for the container's lifetime.
 */
void husk_state_unlock(struct husk_state_handle *h);

/* False once the handle's state file is gone (another process deleted the container); a
 * stat error other than ENOENT counts as present. */
bool husk_state_exists(const struct husk_state_handle *h);

/*
 * Atomically write the handle's state. A handle that does not hold the lock takes it for
 * this write only, and then refuses to write a container whose state file another process
 * removed meanwhile: HUSK_ERR_NOT_FOUND "container '<id>' was deleted" (nothing written).
 */
int husk_state_save(struct husk_state_handle *h, struct husk_err *err);

/* Remove the .state and .lock files (taking the lock if the handle does not hold it); the
 * handle stays valid to free. */
int husk_state_destroy(struct husk_state_handle *h, struct husk_err *err);

/*
 * Whether a writer holds the lock of id, without waiting: 1 held, 0 free, -ENOENT when there
 * is no lock file, other -errno on failure. For `husk debug`.
 */
int husk_state_lock_probe(struct husk_state_root *root, const struct husk_full_id *id);

/*
 * Remove the .state and .lock files of id whatever the state file holds (a corrupt one
 * included), under the lock (blocking). Missing files are fine. For `husk delete --force`.
 */
int husk_state_remove_files(struct husk_state_root *root, const struct husk_full_id *id,
			    struct husk_err *err);

/* Release the lock and free. NULL allowed; returns NULL. */
struct husk_state_handle *husk_state_handle_free(struct husk_state_handle *h);

/* A file that failed to load during a listing, for `husk debug`. */
struct husk_state_problem {
	char *file;  /* file name within the root */
	char *error; /* why it was skipped */
};

struct husk_state_list {
	struct husk_state *states; /* loaded, status corrected, no locks held */
	size_t n_states;
	struct husk_state_problem *problems;
	size_t n_problems;
};

/*
 * List every well-named state file (sandbox NULL) or every container of one sandbox (a glob
 * on *_sandbox:<sid>.state; unrelated files are never opened). Files with a bad name or
 * bad content are skipped with a warn log line and recorded in problems. Never blocks on
 * a writer's lock.
 */
int husk_state_list(struct husk_state_root *root, const char *sandbox, struct husk_state_list *ret,
		    struct husk_err *err);
void husk_state_list_done(struct husk_state_list *list);

/* Free the strings owned by a state and reset it (the struct itself is the caller's). */
void husk_state_done(struct husk_state *state);

/* Deep copy; -ENOMEM on allocation failure. */
int husk_state_copy(const struct husk_state *src, struct husk_state *dst);

/* Pure codec: state ⇄ JSON text (malloc'ed, NUL-terminated). Parse errors name the field. */
int husk_state_format(const struct husk_state *state, char **ret_json, struct husk_err *err);
int husk_state_parse(const char *json, size_t len, struct husk_state *ret, struct husk_err *err);

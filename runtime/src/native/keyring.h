/* The container's session keyring, as runc makes it. */
#pragma once

#include <stdbool.h>

struct husk_lsm;

/*
 * Join (create, or join by name) the session keyring `name` ("_ses.<container id>"), so
 * the container never shares the runtime's; with `searchable`, add the owner's search
 * permission (or others', with a new user namespace: `userns`), as runc does for the init.
 * A kernel without keyrings (ENOSYS) is fine. Child side, before exec; errors go to sock.
 * Async-signal-safe.
 */
int husk__keyring_join(int sock, const char *name, bool searchable, bool userns);

/*
 * husk__keyring_join for a process labelled label: where SELinux is enabled the keyring is
 * created with that key-creation label, which is reset after the join (runc's SetKeyLabel
 * around JoinSessionKeyring). /proc is opened only when there is a label to write. Child
 * side, single-threaded; errors go to sock.
 */
int husk__keyring_join_labelled(int sock, const char *name, bool searchable, bool userns,
				const struct husk_lsm *lsm, const char *label);

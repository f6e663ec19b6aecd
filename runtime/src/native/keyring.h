/* The container's session keyring, as runc makes it. */
#pragma once

#include <stdbool.h>

/*
 * Join (create, or join by name) the session keyring `name` ("_ses.<container id>"), so
 * the container never shares the runtime's; with `searchable`, add the owner's search
 * permission (or others', with a new user namespace: `userns`), as runc does for the init.
 * A kernel without keyrings (ENOSYS) is fine. Child side, before exec; errors go to sock.
 * Async-signal-safe.
 */
int husk__keyring_join(int sock, const char *name, bool searchable, bool userns);

/*
 * OCI mount options ("ro", "nosuid", "rbind", "rprivate", "mode=755", ...) → what mount(2)
 * and mount_setattr(2) take. Pure: no syscalls, no globals; the native engine's plan calls
 * it and tests run it without root.
 *
 * The vocabulary is mount(8)'s filesystem-independent options plus the OCI/runc extensions:
 *   flags       ro rw nosuid suid nodev dev noexec exec sync async dirsync mand nomand
 *               noatime atime nodiratime diratime relatime norelatime strictatime
 *               nostrictatime lazytime nolazytime iversion noiversion silent loud
 *               nosymfollow symfollow defaults remount
 *   bind        bind rbind
 *   propagation shared slave private unbindable, and r-prefixed: rshared rslave ...
 *   recursive   rro rrw rnosuid rsuid rnodev rdev rnoexec rexec rnodiratime rdiratime
 *   attributes  rrelatime rnorelatime rnoatime ratime rstrictatime rnostrictatime
 *               rnosymfollow rsymfollow (OCI 1.1: mount_setattr(AT_RECURSIVE) after the
 *               mount, as runc does)
 *   extensions  idmap ridmap (OCI 1.1 idmapped mounts), tmpcopyup (runc)
 * Anything else is filesystem data ("mode=755", "size=65536k", "gid=5", "newinstance"),
 * joined with commas in order. Options apply left to right, a later one winning
 * ("ro,rw" is read-write), as mount(8) does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct husk_err;

struct husk_mount_opts {
	unsigned long flags;	   /* MS_* to pass to mount(2); never MS_BIND, MS_REC,
				    * MS_REMOUNT or a propagation flag (those are below) */
	unsigned long cleared;	   /* MS_* an option turned off explicitly ("rw", "suid",
				    * "atime"): what a bind remount must clear, not inherit */
	bool bind;		   /* "bind" or "rbind" */
	bool recursive;		   /* "rbind" */
	bool remount;		   /* "remount" */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, 0 if none;
				    * the last propagation option wins */
	bool propagation_rec;	   /* the r-prefixed form ("rprivate") */
	uint64_t attr_set;	   /* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) ... */
	uint64_t attr_clr;	   /* ... and the ones to clear; both 0 when no r-attribute */
	bool idmap;		   /* "idmap" / "ridmap": an idmapped mount (OCI 1.1) */
	bool idmap_rec;		   /* "ridmap" */
	bool tmpcopyup;		   /* runc's "tmpcopyup": copy the image's content into a tmpfs */
	char *data;		   /* filesystem options joined by ',', NULL when none (owned) */
};

/*
 * Split options[0..n) into *ret (which the call zeroes first). Returns 0, or fails with
 * HUSK_ERR_INVALID for an empty option or one containing ',' (the kernel would split it into
 * options nobody checked), naming it as "options[i]"; HUSK_ERR_INTERNAL/ENOMEM on OOM. On
 * failure *ret holds nothing to free. Release with husk__mount_opts_done().
 */
int husk__mount_opts_parse(char *const *options, size_t n, struct husk_mount_opts *ret,
			   struct husk_err *err);

/* Free what *o owns (the data string) and zero it. NULL allowed. */
void husk__mount_opts_done(struct husk_mount_opts *o);

/*
 * Why a single option cannot be used ("empty option", "contains ','"), or NULL when it
 * can. The spec parser uses it to name the bad option by its JSON path.
 */
const char *husk__mount_opt_invalid(const char *option);

/*
 * The i-th option this parser applies itself (every one above but "remount", which a spec
 * mount cannot use), NULL past the end; anything else is filesystem data.
 */
const char *husk__mount_opt_name(size_t i);

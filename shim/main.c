/* containerd-shim-husk-v2: flags, then start, delete, -v, -info or the daemon. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>

#include "convert.h"
#include "flags.h"
#include "husk/cleanup.h"
#include "husk/engine_config.h"
#include "husk/err.h"
#include "husk/features.h"
#include "shim_main.h"
#include "types/introspection.pb-c.h"

int shim_read_all(int fd, size_t max, uint8_t **ret, size_t *ret_len)
{
	size_t cap = 0;
	size_t len = 0;
	_cleanup_free_ uint8_t *buf = NULL;

	for (;;) {
		if (len == cap) {
			if (cap >= max)
				return -EFBIG;
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *n = realloc(buf, ncap);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int shim_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int version_main(const char *argv0)
{
	printf("%s:\n  Version:  %s\n  Runtime:  %s\n\n", argv0, HUSK_VERSION, SHIM_RUNTIME_NAME);
	return 0;
}

/* The type URL containerd's typeurl registry gives runtime-spec's features.Features (JSON). */
#define FEATURES_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

/* The OCI binary the options select (a ConfigPath's file included), NULL: native. */
static int info_binary(const struct shim_options *o, char **ret, struct husk_err *err)
{
	struct husk_engine_config ec = {0};
	const char *name = o->binary_name;

	*ret = NULL;
	if (!name && o->config_path) {
		int r = husk_engine_config_load(o->config_path, &ec, err);
		if (r < 0)
			return r;
		name = ec.binary;
	}
	if (name)
		*ret = strdup(name);
	husk_engine_config_done(&ec);
	return name && !*ret ? husk_err_errno(err, ENOMEM, "runtime options") : 0;
}

/*
 * The features document of the engine: husk's own, or `<binary> features` as the runc
 * shim runs it. A binary without that command (runsc) gives none (*ret NULL), as the runc
 * shim omits features for youki; a binary that is not there fails the call.
 */
static int info_features(const char *binary, char **ret, size_t *ret_len, struct husk_err *err)
{
	if (!binary)
		return husk_features_json(/* pretty= */ false, ret, ret_len, err);
	int r = husk_oci_features_json(binary, ret, ret_len, err);
	if (r < 0 && err && err->kind == HUSK_ERR_UNIMPLEMENTED) {
		*ret = NULL;
		return 0;
	}
	return r;
}

/*
 * RuntimeInfo as containerd-shim-runc-v2 builds it: the name, the version, the runtime
 * options read from stdin echoed back when they are options husk understands, and the
 * features document of the engine those options select: husk's own for the native engine,
 * the binary's `features` for an OCI runtime binary (BinaryName, or the binary of a
 * ConfigPath's file), none when it has no such command. Options that cannot be read (a
 * ConfigPath's file included) and a binary that is not found fail the call.
 */
static int info_build(const uint8_t *in, size_t in_len, uint8_t **ret, size_t *ret_len,
		      struct husk_err *err)
{
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
	Containerd__Types__RuntimeVersion version = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	Google__Protobuf__Any features = GOOGLE__PROTOBUF__ANY__INIT;
	_cleanup_free_ char *doc = NULL;
	char *binary = NULL;
	struct shim_options o;
	size_t doc_len = 0;
	int r = shim_options_parse_any(in, in_len, &o, err);

	if (r >= 0)
		r = info_binary(&o, &binary, err);
	if (r < 0) {
		free(binary);
		shim_options_done(&o);
		return husk_err_prefix(err, "read runtime options");
	}
	r = info_features(binary, &doc, &doc_len, err);
	free(binary);
	if (r < 0) {
		shim_options_done(&o);
		return r;
	}
	Google__Protobuf__Any *opts = NULL;
	const char *type = shim_type_url_name(o.type_url);
	if (strcmp(type, "containerd.runc.v1.Options") == 0 ||
	    strcmp(type, "runtimeoptions.v1.Options") == 0)
		opts = google__protobuf__any__unpack(NULL, in_len, in);
	if (doc) {
		features.type_url = (char *)FEATURES_TYPE_URL;
		features.value = (ProtobufCBinaryData){.len = doc_len, .data = (uint8_t *)doc};
		info.features = &features;
	}
	info.name = (char *)SHIM_RUNTIME_NAME;
	version.version = (char *)HUSK_VERSION;
	info.version = &version;
	info.options = opts;
	r = shim_pack(&info.base, ret, ret_len, err);
	if (opts)
		google__protobuf__any__free_unpacked(opts, NULL);
	shim_options_done(&o);
	return r;
}

int shim_info_main(const struct shim_flags *f)
{
	struct husk_err err = {0};
	_cleanup_free_ uint8_t *in = NULL;
	_cleanup_free_ uint8_t *out = NULL;
	size_t in_len = 0;
	size_t out_len = 0;

	(void)f;
	/* Optional runtime options on stdin (a serialized Any); a terminal is no options. */
	if (isatty(STDIN_FILENO) == 0) {
		int r = shim_read_all(STDIN_FILENO, 1 << 20, &in, &in_len);
		if (r < 0) {
			(void)fprintf(stderr, "-info: read stdin: %s\n", strerror(-r));
			return 1;
		}
	}
	if (info_build(in, in_len, &out, &out_len, &err) < 0) {
		(void)fprintf(stderr, "-info: %s\n", err.msg);
		return 1;
	}
	if (shim_write_all(STDOUT_FILENO, out, out_len) < 0) {
		(void)fprintf(stderr, "-info: cannot write RuntimeInfo\n");
		return 1;
	}
	return 0;
}

/*
 * start execs the daemon through /proc/self/exe, which would name it "exe": ps, top, pgrep
 * and killall know it by its binary's name (argv[0] is the resolved path), as the runc shim's.
 */
static void name_daemon(const char *argv0)
{
	if (!argv0 || !*argv0)
		return;
	const char *base = strrchr(argv0, '/');
	(void)prctl(PR_SET_NAME, base ? base + 1 : argv0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	struct shim_flags f;
	struct husk_err err = {0};

	if (shim_flags_parse(argc, argv, &f, &err) < 0) {
		(void)fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	if (f.version)
		return version_main(argv[0]);
	if (f.info)
		return shim_info_main(&f);
	if (!f.action) {
		name_daemon(argv[0]);
		return shim_serve_main(&f);
	}
	if (strcmp(f.action, "start") == 0)
		return shim_start_main(&f);
	if (strcmp(f.action, "delete") == 0)
		return shim_delete_main(&f);
	(void)fprintf(stderr, "unknown action '%s'\n", f.action);
	return 2;
}

/*
 * `containerd-shim-husk-v2 -info` and `husk features`: the RuntimeInfo containerd 2.x reads
 * (name, version, the options echoed, the features document as an Any of its JSON, shaped
 * as containerd-shim-runc-v2 2.x answers) and the CLI's document, both the engine's own.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "husk/features.h"
#include "runc/options/oci.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "types/introspection.pb-c.h"

extern char **environ;

static const char *binary(const char *rel)
{
	static char path[2][4096];
	static int which;
	char *p = path[which++ % 2];

	(void)snprintf(p, 4096, "%s/%s", getenv("HUSK_BINARY_DIR"), rel);
	return p;
}

/* Run argv with in[0..in_len) on stdin; stdout into *out. Returns the exit status. */
static int run(char *const argv[], const void *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	char tmpl[] = "/tmp/husk-info-XXXXXX";
	int fd = mkstemp(tmpl);
	int pipefd[2];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0;

	cr_assert(fd >= 0);
	cr_assert(eq(sz, (size_t)write(fd, in, in_len), in_len));
	(void)close(fd);
	cr_assert(eq(int, pipe2(pipefd, O_CLOEXEC), 0));
	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_addopen(&fa, 0, tmpl, O_RDONLY, 0);
	(void)posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	cr_assert(eq(int, posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0), "spawn %s",
		  argv[0]);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)close(pipefd[1]);
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (len == cap)
			buf = realloc(buf, cap *= 2);
		ssize_t n = read(pipefd[0], buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(pipefd[0]);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	(void)unlink(tmpl);
	*out = buf;
	*out_len = len;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static json_t *own_features(void)
{
	char *doc = NULL;
	size_t len = 0;

	cr_assert(eq(int, husk_features_json(/* pretty= */ false, &doc, &len, NULL), 0));
	json_t *j = json_loadb(doc, len, 0, NULL);
	free(doc);
	cr_assert(j != NULL);
	return j;
}

static Containerd__Types__RuntimeInfo *info(const void *in, size_t in_len)
{
	char *argv[] = {(char *)binary("shim/containerd-shim-husk-v2"), "-info", NULL};
	uint8_t *out = NULL;
	size_t len = 0;

	cr_assert(eq(int, run(argv, in, in_len, &out, &len), 0), "-info exits 0");
	Containerd__Types__RuntimeInfo *ri =
		containerd__types__runtime_info__unpack(NULL, len, out);
	free(out);
	cr_assert(ri != NULL, "stdout is one RuntimeInfo protobuf");
	cr_assert(eq(str, ri->name, "io.containerd.husk.v2"));
	cr_assert(ri->version != NULL);
	cr_assert(gt(sz, strlen(ri->version->version), (size_t)0));
	return ri;
}

static void check_native_features(const Containerd__Types__RuntimeInfo *ri)
{
	cr_assert(ri->features != NULL, "the native engine's features are reported");
	cr_assert(eq(str, ri->features->type_url,
		     "types.containerd.io/opencontainers/runtime-spec/1/features/Features"));
	json_t *got = json_loadb((const char *)ri->features->value.data, ri->features->value.len, 0,
				 NULL);
	json_t *want = own_features();
	cr_assert(got != NULL, "the Any's value is the features JSON");
	cr_assert(eq(int, json_equal(got, want), 1), "the same document as husk_features_json()");
	json_decref(got);
	json_decref(want);
}

Test(shim_info, no_options)
{
	Containerd__Types__RuntimeInfo *ri = info("", 0);

	cr_assert(eq(ptr, ri->options, NULL), "no options in, none echoed");
	check_native_features(ri);
	containerd__types__runtime_info__free_unpacked(ri, NULL);
}

/* A serialized Any{type_url, value of msg}. */
static uint8_t *any_of(const char *type_url, const ProtobufCMessage *msg, size_t *ret_len)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t *value = malloc(protobuf_c_message_get_packed_size(msg) + 1);

	any.type_url = (char *)type_url;
	any.value.len = protobuf_c_message_pack(msg, value);
	any.value.data = value;
	uint8_t *out = malloc(google__protobuf__any__get_packed_size(&any) + 1);
	*ret_len = google__protobuf__any__pack(&any, out);
	free(value);
	return out;
}

Test(shim_info, runc_options_are_echoed)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	size_t len = 0;

	o.systemd_cgroup = true;
	o.root = "/run/x";
	uint8_t *in = any_of("containerd.runc.v1.Options", &o.base, &len);
	Containerd__Types__RuntimeInfo *ri = info(in, len);
	cr_assert(ri->options != NULL, "the options are echoed, as the runc shim does");
	cr_assert(eq(str, ri->options->type_url, "containerd.runc.v1.Options"));
	Containerd__Runc__V1__Options *back = containerd__runc__v1__options__unpack(
		NULL, ri->options->value.len, ri->options->value.data);
	cr_assert(back != NULL);
	cr_assert(eq(str, back->root, "/run/x"));
	cr_assert(eq(int, back->systemd_cgroup, 1));
	containerd__runc__v1__options__free_unpacked(back, NULL);
	check_native_features(ri);
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(in);
}

/* `runc features`, compacted, as the runc shim embeds it. */
Test(shim_info, runc_binary_gets_runcs_own_features)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	char *argv[] = {"/bin/sh", "-c", "runc features", NULL};
	uint8_t *out = NULL;
	size_t len = 0, out_len = 0;

	if (run(argv, "", 0, &out, &out_len) != 0) {
		free(out);
		cr_skip_test("no runc with a features command on PATH (apt-get install runc)");
	}
	json_t *want = json_loadb((const char *)out, out_len, 0, NULL);
	free(out);
	cr_assert(want != NULL);
	o.binary_name = "runc";
	uint8_t *in = any_of("containerd.runc.v1.Options", &o.base, &len);
	Containerd__Types__RuntimeInfo *ri = info(in, len);
	cr_assert(ri->features != NULL, "runc's own features are reported");
	cr_assert(eq(str, ri->features->type_url,
		     "types.containerd.io/opencontainers/runtime-spec/1/features/Features"));
	json_t *got = json_loadb((const char *)ri->features->value.data, ri->features->value.len, 0,
				 NULL);
	cr_assert(eq(int, json_equal(got, want), 1), "the document runc prints");
	json_decref(got);
	json_decref(want);
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(in);
}

Test(shim_info, missing_binary_fails)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	char *argv[] = {(char *)binary("shim/containerd-shim-husk-v2"), "-info", NULL};
	uint8_t *out = NULL;
	size_t len = 0, out_len = 0;

	o.binary_name = "no-such-runtime-husk";
	uint8_t *in = any_of("containerd.runc.v1.Options", &o.base, &len);
	cr_assert(eq(int, run(argv, in, len, &out, &out_len), 1), "exit 1, as the runc shim's "
								  "lookup failure");
	cr_assert(eq(sz, out_len, (size_t)0));
	free(out);
	free(in);
}

Test(shim_info, oci_binary_gets_no_native_features)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	size_t len = 0;

	o.binary_name = "runsc";
	uint8_t *in = any_of("containerd.runc.v1.Options", &o.base, &len);
	Containerd__Types__RuntimeInfo *ri = info(in, len);
	cr_assert(ri->options != NULL);
	cr_assert(eq(ptr, ri->features, NULL),
		  "runsc has no features command: none, never the native engine's document");
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(in);
}

Test(shim_info, garbage_options_fail)
{
	char *argv[] = {(char *)binary("shim/containerd-shim-husk-v2"), "-info", NULL};
	static const uint8_t junk[] = {0x0a, 0x1a, 0x63, 0x6f}; /* a truncated Any */
	uint8_t *out = NULL;
	size_t len = 0;

	cr_assert(eq(int, run(argv, junk, sizeof(junk), &out, &len), 1), "exit 1");
	cr_assert(eq(sz, len, (size_t)0), "nothing on stdout");
	free(out);
}

Test(shim_info, husk_features_prints_the_same_document)
{
	char *argv[] = {(char *)binary("runtime/cli/husk"), "features", NULL};
	uint8_t *out = NULL;
	size_t len = 0;

	cr_assert(eq(int, run(argv, "", 0, &out, &len), 0));
	cr_assert(gt(sz, len, (size_t)2));
	cr_assert(eq(chr, (char)out[len - 1], '\n'));
	json_t *got = json_loadb((const char *)out, len, 0, NULL);
	json_t *want = own_features();
	cr_assert(got != NULL);
	cr_assert(eq(int, json_equal(got, want), 1));
	json_decref(got);
	json_decref(want);
	free(out);
}

/* runtimeoptions.v1.Options{ConfigPath} naming a file with json (NULL: no file). */
static uint8_t *config_path_any(const char *json, char *path, size_t *len)
{
	Runtimeoptions__V1__Options ro = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
	char tmpl[] = "/tmp/husk-info-cfg-XXXXXX";
	int fd = mkstemp(tmpl);

	cr_assert(fd >= 0);
	if (json)
		cr_assert(eq(sz, (size_t)write(fd, json, strlen(json)), strlen(json)));
	else
		(void)unlink(tmpl);
	(void)close(fd);
	strcpy(path, tmpl);
	ro.config_path = path;
	return any_of("runtimeoptions.v1.Options", &ro.base, len);
}

Test(shim_info, config_path_engine_decides_the_features)
{
	char path[64];
	size_t len = 0;
	uint8_t *in = config_path_any("{\"engine\":\"oci\",\"binary\":\"runsc\"}", path, &len);
	Containerd__Types__RuntimeInfo *ri = info(in, len);

	cr_assert(ri->options != NULL, "runtimeoptions are echoed");
	cr_assert(eq(ptr, ri->features, NULL), "the config's OCI binary is not described");
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(in);
	(void)unlink(path);

	in = config_path_any("{\"engine\":\"native\"}", path, &len);
	ri = info(in, len);
	check_native_features(ri);
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(in);
	(void)unlink(path);
}

Test(shim_info, missing_config_path_fails)
{
	char *argv[] = {(char *)binary("shim/containerd-shim-husk-v2"), "-info", NULL};
	char path[64];
	size_t len = 0, out_len = 0;
	uint8_t *out = NULL;
	uint8_t *in = config_path_any(NULL, path, &len);

	cr_assert(eq(int, run(argv, in, len, &out, &out_len), 1), "exit 1");
	cr_assert(eq(sz, out_len, (size_t)0));
	free(out);
	free(in);
}

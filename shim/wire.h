/*
 * Checks of a request's raw protobuf bytes before protobuf-c decodes them. protobuf-c
 * NUL-terminates strings, so "c1\0junk" would reach us as "c1": the bytes are the only place
 * where such a string can be seen, and refused.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct husk_err;

/* Nesting bound of the messages walked (the Task requests nest 3 deep at most). */
#define SHIM_WIRE_MAX_DEPTH 16

/* containerd's identifier rules (pkg/identifiers): at most 76 bytes, and
 * ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$. */
#define SHIM_IDENTIFIER_MAX 76

/* True when s (len bytes) is a valid containerd identifier. */
bool shim_identifier_valid(const char *s, size_t len);

/*
 * Walk buf as a serialized message of type desc, and its nested messages as their own
 * types. Fails with HUSK_ERR_INVALID, naming the field, when a string field holds a NUL
 * byte, when a top-level "id" or "exec_id" field is not empty and not a containerd
 * identifier, or when the bytes are not well-formed protobuf. Fields unknown to desc are
 * skipped, as protobuf-c skips them. Pure; no allocation.
 */
int shim_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
		    struct husk_err *err);

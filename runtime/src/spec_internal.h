/*
 * Section parsers shared by the spec files. Each builds its struct in place from a json_t
 * object; on failure the struct holds what was built so far and the matching _done/_free
 * releases it. path names the object in error messages ("process", "linux.resources").
 */
#pragma once

#include <jansson.h>

#include "husk/spec.h"

struct husk_err;

/* spec_process.c */
int husk__process_from_json(json_t *obj, const char *path, struct husk_process *p,
			    struct husk_err *err);
void husk__process_done(struct husk_process *p);

/* spec_resources.c */
int husk__resources_from_json(json_t *obj, const char *path, struct husk_resources *res,
			      struct husk_err *err);
void husk__resources_done(struct husk_resources *res);

/* spec_linux.c */
int husk__linux_from_json(json_t *obj, const char *path, struct husk_linux *lx,
			  struct husk_err *err);
void husk__linux_done(struct husk_linux *lx);
/* One {containerID, hostID, size} object (linux.uidMappings[i], mounts[i].uidMappings[j]). */
int husk__parse_id_mapping(json_t *obj, const char *path, void *item, struct husk_err *err);

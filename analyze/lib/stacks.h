/* SPDX-License-Identifier: MIT */
/*
 * Internal: the replay's stack side. An interned stack table (frame arrays
 * to stack ids), a map from live allocation address to stack id, and the
 * image map (address ranges to module names) frames are rendered with.
 * Created on the first stack or image event; a trace without them never
 * allocates any of it.
 */
#ifndef PT_STACKS_H
#define PT_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT__STACKS_MAX 1000000u          /* distinct stacks kept */
#define PT__STACK_FRAMES_MAX (32u << 20) /* frames kept over all stacks */
#define PT__IMAGES_MAX 65536u            /* images kept */
#define PT__IMAGE_NAME_MAX 128u          /* bytes of a module name kept */

struct pt__stacks;

/** pt__stacks_new() - an empty table. @return NULL when out of memory. */
struct pt__stacks *pt__stacks_new(void);

/** pt__stacks_free() - free it; NULL is accepted. */
void pt__stacks_free(struct pt__stacks *s);

/**
 * pt__stacks_intern() - the id of a frame array taken in process pid,
 * added when new. Stacks made only of kernel addresses are shared by all
 * processes (pid is not part of their key).
 * @id: receives the id; UINT32_MAX when the table is full (not an error).
 * @return: 0 or PT_ENOMEM.
 */
int pt__stacks_intern(struct pt__stacks *s, uint32_t pid, const uint64_t *frames, uint32_t n,
		      uint32_t *id);

/** pt__stacks_bind() - the allocation at addr was made from stack id. @return 0 or PT_ENOMEM. */
int pt__stacks_bind(struct pt__stacks *s, uint64_t addr, uint32_t id);

/** pt__stacks_unbind() - forget the stack of addr (freed or replaced). */
void pt__stacks_unbind(struct pt__stacks *s, uint64_t addr);

/** pt__stacks_lookup() - the stack id bound to addr, UINT32_MAX when none. */
uint32_t pt__stacks_lookup(const struct pt__stacks *s, uint64_t addr);

/** pt__stacks_bound() - addresses with a stack bound now. */
size_t pt__stacks_bound(const struct pt__stacks *s);

/** pt__stacks_count() - distinct stacks interned. */
size_t pt__stacks_count(const struct pt__stacks *s);

/** pt__stacks_get() - frames of stack id (NULL for an unknown id). */
const uint64_t *pt__stacks_get(const struct pt__stacks *s, uint32_t id, uint32_t *n, uint32_t *pid);

/**
 * pt__stacks_image() - note an image mapped at base..base+size in pid
 * (0 or 4: the kernel, whose modules resolve kernel addresses of every
 * process). Zero-size images and images past the cap are ignored.
 * @return: 1 kept, 0 ignored, PT_ENOMEM.
 */
int pt__stacks_image(struct pt__stacks *s, uint64_t base, uint64_t size, uint32_t pid,
		     const char *path);

/** pt__stacks_images() - images kept. */
size_t pt__stacks_images(const struct pt__stacks *s);

/** pt__stacks_seal() - sort the image map for lookups (after the last image). */
void pt__stacks_seal(struct pt__stacks *s);

/**
 * pt__stacks_frame() - "module+0xOFFSET" for a frame of a stack taken in
 * pid, or "0xADDRESS" when no image covers it.
 * @return: true when an image covered it.
 */
bool pt__stacks_frame(const struct pt__stacks *s, uint64_t addr, uint32_t pid, char *buf,
		      size_t bufsz);

#endif

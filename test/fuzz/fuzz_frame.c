/*
 * Fuzz the frame reader. Input byte 0 picks the read sizes, byte 1 the length limit (small,
 * so the oversize path is reachable with small inputs); the rest is the byte stream. Every
 * yielded frame must be exactly the next header and data of the stream, oversize frames
 * must carry no data, and every byte must be consumed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc__frame_reader r;
	size_t chunk, off = 0, expect = 0;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	ttrpc__frame_reader_init(&r, (uint32_t)data[1] * 16u);
	data += 2;
	size -= 2;
	while (off < size) {
		size_t len = size - off < chunk ? size - off : chunk;
		const uint8_t *p = data + off;
		while (len > 0) {
			struct ttrpc__frame f;
			ssize_t n = ttrpc__frame_reader_feed(&r, p, len, &f);
			if (n <= 0 || (size_t)n > len)
				abort();
			p += n;
			len -= (size_t)n;
			off += (size_t)n;
			if (f.kind == TTRPC__FRAME_NONE)
				continue;
			uint8_t hdr[TTRPC__HEADER_LEN];
			ttrpc__frame_header_format(&f.header, hdr);
			if (memcmp(hdr, data + expect, sizeof(hdr)) != 0)
				abort();
			if (f.kind == TTRPC__FRAME_OVERSIZE) {
				if (f.data != NULL || f.header.length <= r.max_len)
					abort();
			} else if (f.header.length > r.max_len ||
				   (f.header.length == 0) != (f.data == NULL) ||
				   (f.data != NULL && memcmp(f.data, data + expect + sizeof(hdr),
							     f.header.length) != 0)) {
				abort();
			}
			expect += sizeof(hdr) + f.header.length;
			if (expect != off)
				abort();
		}
	}
	ttrpc__frame_reader_done(&r);
	return 0;
}

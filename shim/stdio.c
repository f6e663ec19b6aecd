#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/stat.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spawn.h"
#include "log.h"
#include "reaper.h"
#include "shim_stdio.h"
#include "stdio_uri.h"

enum { IN = 0, OUT = 1, ERR = 2 };

/* One direction, src → dst. */
struct copier {
	struct shim_stdio *owner;
	uv_pipe_t src;
	uv_pipe_t dst;
	bool active;   /* set up and started */
	bool src_open; /* handle open (uv_close not yet called) */
	bool dst_open;
	bool src_done; /* EOF or error on src */
	bool reading;
	bool discard; /* dst failed: keep draining src, drop the data */
	bool output;  /* counts towards "drained" */
	unsigned pending;
	uv_timer_t retry;   /* terminal output: re-read after a 0-byte read */
	bool retry_open;    /* timer initialised and not yet closed */
	unsigned eof_reads; /* 0-byte reads in a row */
	bool await_reader;  /* dst is a fifo no client had opened when we did */
	uv_timer_t linger;  /* await_reader: polls until the client has read what we wrote */
	bool linger_open;
};

struct shim_stdio {
	uv_loop_t *loop;
	enum shim_stdio_kind kind;
	bool terminal;
	int child_fds[3];  /* the process's ends until start */
	int src_fds[3];	   /* our read ends (OUT, ERR) / stdin fifo reader (IN) until start */
	int dst_fds[3];	   /* fifo writers (OUT, ERR) / process stdin pipe (IN) until start */
	int stdin_closer;  /* our writer on the stdin fifo: CloseIO closes it */
	int console;	   /* pty master, for resize */
	int keep_fds[2];   /* binary: pipe write ends, held until close as runc does */
	bool no_reader[3]; /* OUT, ERR: the client had not opened its fifo at setup */
	struct husk_child logger;
	struct copier cp[3];
	unsigned open_handles;
	unsigned outputs_running;
	bool closing;
	bool drained_called;
	shim_stdio_drained_fn *drained_cb;
	void *drained_data;
};

struct wbuf {
	uv_write_t req;
	struct copier *c;
	char data[];
};

static void copier_finish(struct copier *c);
static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void maybe_free(struct shim_stdio *s)
{
	if (s->closing && s->open_handles == 0)
		free(s);
}

static void close_cb(uv_handle_t *h)
{
	struct shim_stdio *s = h->data;

	s->open_handles--;
	maybe_free(s);
}

static void close_handle(struct shim_stdio *s, uv_pipe_t *p, bool *open)
{
	if (!*open)
		return;
	*open = false;
	p->data = s;
	uv_close((uv_handle_t *)p, close_cb);
}

static void close_retry(struct shim_stdio *s, struct copier *c)
{
	if (!c->retry_open)
		return;
	c->retry_open = false;
	(void)uv_timer_stop(&c->retry);
	c->retry.data = s;
	uv_close((uv_handle_t *)&c->retry, close_cb);
}

static void close_linger(struct shim_stdio *s, struct copier *c)
{
	if (!c->linger_open)
		return;
	c->linger_open = false;
	(void)uv_timer_stop(&c->linger);
	c->linger.data = s;
	uv_close((uv_handle_t *)&c->linger, close_cb);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct copier *c = h->data;
	struct wbuf *w = malloc(sizeof(*w) + SHIM_STDIO_BUF);

	(void)hint;
	if (!w) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	w->c = c;
	*buf = uv_buf_init(w->data, (unsigned)SHIM_STDIO_BUF);
}

static struct wbuf *wbuf_of(const uv_buf_t *buf)
{
	/* buf->base always points at the data member of a malloc'ed wbuf. */
	return buf->base ? (struct wbuf *)(void *)(buf->base - offsetof(struct wbuf, data)) : NULL;
}

static void notify_drained(struct shim_stdio *s)
{
	if (s->outputs_running > 0 || s->drained_called || !s->drained_cb || s->closing)
		return;
	s->drained_called = true;
	s->drained_cb(s, s->drained_data);
}

static void linger_cb(uv_timer_t *t)
{
	copier_finish(t->data);
}

/*
 * Whether output we wrote still sits in a fifo that no client had opened when we did: our
 * own reader keeps it there, and closing now would drop it before the client's (late) open.
 * containerd's runc shim cannot lose it that way (its writer's open waits for the client), so
 * we keep the fifo open, polling, until the client has read it all. Arms the poll.
 */
static bool unread_by_late_client(struct copier *c)
{
	uv_os_fd_t fd;
	int unread = 0;

	if (!c->await_reader || uv_fileno((const uv_handle_t *)&c->dst, &fd) < 0 ||
	    ioctl(fd, FIONREAD, &unread) < 0 || unread == 0)
		return false;
	if (!c->linger_open) {
		if (uv_timer_init(c->owner->loop, &c->linger) < 0)
			return false;
		c->linger.data = c;
		c->linger_open = true;
		c->owner->open_handles++;
	}
	return uv_timer_start(&c->linger, linger_cb, SHIM_STDIO_LINGER_MS, 0) == 0;
}

/* src is done and every write has completed: close dst (EOF for its reader). */
static void copier_finish(struct copier *c)
{
	struct shim_stdio *s = c->owner;

	if (!c->src_done || c->pending > 0 || !c->dst_open || s->closing)
		return;
	if (unread_by_late_client(c))
		return;
	close_linger(s, c);
	close_handle(s, &c->dst, &c->dst_open);
	if (c->output) {
		s->outputs_running--;
		notify_drained(s);
	}
}

static void write_cb(uv_write_t *req, int status)
{
	struct wbuf *w = (struct wbuf *)req;
	struct copier *c = w->c;

	free(w);
	c->pending--;
	if (c->owner->closing)
		return;
	if (status < 0 && status != UV_ECANCELED)
		c->discard = true;
	if (!c->reading && c->src_open && !c->src_done &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->dst) < SHIM_STDIO_LOW) {
		if (uv_read_start((uv_stream_t *)&c->src, alloc_cb, read_cb) == 0)
			c->reading = true;
	}
	copier_finish(c);
}

static void src_done(struct copier *c)
{
	c->src_done = true;
	c->reading = false;
	close_retry(c->owner, c);
	close_handle(c->owner, &c->src, &c->src_open);
	copier_finish(c);
}

static void retry_cb(uv_timer_t *t)
{
	struct copier *c = t->data;

	if (c->reading || !c->src_open || c->src_done || c->owner->closing ||
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->dst) >= SHIM_STDIO_LOW)
		return; /* write_cb restarts the reading once the queue is low */
	if (uv_read_start((uv_stream_t *)&c->src, alloc_cb, read_cb) == 0)
		c->reading = true;
	else
		src_done(c);
}

/* A 0-byte read of a pty master: true when the copy goes on (a retry is armed). */
static bool retry_after_eof(struct copier *c)
{
	if (!c->retry_open || ++c->eof_reads > SHIM_STDIO_EOF_RETRIES)
		return false;
	/* libuv stopped reading at the "EOF". */
	c->reading = false;
	return uv_timer_start(&c->retry, retry_cb, SHIM_STDIO_EOF_RETRY_MS, 0) == 0;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct copier *c = stream->data;
	struct wbuf *w = wbuf_of(buf);

	if (nread <= 0) {
		free(w);
		/* 0 is EAGAIN; EOF, EIO (pty master after the slave closed) or ENOBUFS end it,
		 * but a pty master's EOF only once it repeats (see SHIM_STDIO_EOF_RETRIES). */
		if (nread < 0 && !(nread == UV_EOF && retry_after_eof(c)))
			src_done(c);
		return;
	}
	c->eof_reads = 0;
	if (c->discard || !c->dst_open) {
		free(w);
		return;
	}
	uv_buf_t b = uv_buf_init(w->data, (unsigned)nread);
	if (uv_write(&w->req, (uv_stream_t *)&c->dst, &b, 1, write_cb) < 0) {
		free(w);
		c->discard = true;
		return;
	}
	c->pending++;
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->dst) > SHIM_STDIO_HIGH) {
		(void)uv_read_stop(stream);
		c->reading = false;
	}
}

/* Take src_fd and dst_fd (ownership moves in, even on failure) and start copying. */
static int copier_start(struct shim_stdio *s, struct copier *c, int src_fd, int dst_fd, bool output,
			struct husk_err *err)
{
	int r;

	c->owner = s;
	c->output = output;
	c->await_reader = output && s->no_reader[c - s->cp];
	if (uv_pipe_init(s->loop, &c->src, 0) < 0 || uv_pipe_init(s->loop, &c->dst, 0) < 0) {
		husk_safe_close(src_fd);
		husk_safe_close(dst_fd);
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "uv_pipe_init");
	}
	c->src.data = c;
	c->dst.data = c;
	c->src_open = c->dst_open = true;
	s->open_handles += 2;
	if (output && s->terminal && uv_timer_init(s->loop, &c->retry) == 0) {
		c->retry.data = c;
		c->retry_open = true;
		s->open_handles++;
	}
	c->active = true;
	if (output)
		s->outputs_running++;
	r = uv_pipe_open(&c->src, src_fd);
	if (r < 0) {
		husk_safe_close(src_fd);
		husk_safe_close(dst_fd);
		return husk_err_errno(err, -r, "start stdio copy");
	}
	r = uv_pipe_open(&c->dst, dst_fd);
	if (r < 0) {
		husk_safe_close(dst_fd);
		return husk_err_errno(err, -r, "start stdio copy");
	}
	r = uv_read_start((uv_stream_t *)&c->src, alloc_cb, read_cb);
	if (r < 0)
		return husk_err_errno(err, -r, "start stdio copy");
	c->reading = true;
	return 0;
}

static int open_fifo(const char *path, int flags, struct husk_err *err)
{
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		if (errno == ENOENT)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, ENOENT, "open '%s'", path);
		return husk_err_errno(err, errno, "open '%s'", path);
	}
	return fd;
}

static int make_pipe(const struct shim_stdio_config *cfg, int *ret_r, int *ret_w,
		     struct husk_err *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return husk_err_errno(err, errno, "pipe");
	if ((cfg->io_uid || cfg->io_gid) && (fchown(p[0], cfg->io_uid, cfg->io_gid) < 0 ||
					     fchown(p[1], cfg->io_uid, cfg->io_gid) < 0)) {
		int e = errno;
		(void)close(p[0]);
		(void)close(p[1]);
		return husk_err_errno(err, e, "chown stdio pipe");
	}
	*ret_r = p[0];
	*ret_w = p[1];
	return 0;
}

/* Containerd's fifos: pipes to the process, fifos opened without waiting for a peer. */
static int setup_fifos(struct shim_stdio *s, const struct shim_stdio_config *cfg,
		       const char *paths[3], struct husk_err *err)
{
	int r;

	if (paths[IN] && *paths[IN]) {
		/* Reader first, then our own writer: neither open can block or fail on ENXIO,
		 * and the reader sees no EOF until CloseIO closes our writer. */
		r = s->src_fds[IN] = open_fifo(paths[IN], O_RDONLY, err);
		if (r < 0)
			return r;
		r = s->stdin_closer = open_fifo(paths[IN], O_WRONLY, err);
		if (r < 0)
			return r;
		if (!s->terminal &&
		    (r = make_pipe(cfg, &s->child_fds[IN], &s->dst_fds[IN], err)) < 0)
			return r;
	}
	for (int i = OUT; i <= ERR; i++) {
		if (!paths[i] || !*paths[i] || (s->terminal && i == ERR))
			continue;
		/* A writer that does not wait opens only when the client's reader is there. */
		int probe = open(paths[i], O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		s->no_reader[i] = probe < 0;
		/* O_RDWR: never blocks, and our read side keeps writes from failing with EPIPE
		 * while no client is attached. The probe closes after it: the client sees no EOF.
		 */
		r = s->dst_fds[i] = open_fifo(paths[i], O_RDWR, err);
		husk_safe_close(probe);
		if (r < 0)
			return r;
		if (!s->terminal && (r = make_pipe(cfg, &s->src_fds[i], &s->child_fds[i], err)) < 0)
			return r;
	}
	return 0;
}

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* file://: the process appends stdout and stderr to the file directly. */
static int setup_file(struct shim_stdio *s, const struct shim_stdio_uri *u, struct husk_err *err)
{
	int r;

	if (s->terminal)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "file:// stdio is not supported with a terminal");
	r = mkdir_parents(u->path);
	if (r < 0)
		return husk_err_errno(err, -r, "create the directory of '%s'", u->path);
	int fd = open(u->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return husk_err_errno(err, errno, "open '%s'", u->path);
	s->child_fds[OUT] = fd;
	s->child_fds[ERR] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (s->child_fds[ERR] < 0)
		return husk_err_errno(err, errno, "dup");
	return 0;
}

static int wait_ready(int fd, struct husk_err *err)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do {
		r = poll(&p, 1, SHIM_LOGGER_READY_MS);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return husk_err_errno(err, errno, "wait for the logger");
	if (r == 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, ETIMEDOUT,
				    "logger did not report ready");
	return 0;
}

/* "key=value", malloc'ed; NULL on OOM (asprintf leaves its pointer undefined then). */
static char *env_entry(const char *key, const char *value)
{
	char *e = NULL;

	if (asprintf(&e, "%s=%s", key, value) < 0)
		return NULL;
	return e;
}

/*
 * Spawn x with stdio on /dev/null, the process's stdout and stderr pipes on fds 3 and 4 and a
 * readiness pipe's write end on fd 5, and wait for the logger's byte.
 */
static int spawn_and_wait_ready(struct shim_stdio *s, const struct husk_spawn_exec *x, int out_r,
				int err_r, struct husk_err *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return husk_err_errno(err, errno, "pipe");
	_cleanup_close_ int ready_r = p[0];
	_cleanup_close_ int ready_w = p[1];
	struct husk_spawn_fd fds[] = {{-1, 0, false},	 {-1, 1, false},    {-1, 2, false},
				      {out_r, 3, false}, {err_r, 4, false}, {ready_w, 5, false}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = ARRAY_SIZE(fds)};
	int r = husk_spawn_exec(&o, x, &s->logger, err);
	if (r < 0)
		return husk_err_prefix(err, "start logger");
	husk_closep(&ready_w);
	/* containerd's binary IO waits for a byte on fd 5, or for fd 5 to be closed. */
	return wait_ready(ready_r, err);
}

static int spawn_logger(struct shim_stdio *s, const struct shim_stdio_config *cfg,
			const struct shim_stdio_uri *u, int out_r, int err_r, struct husk_err *err)
{
	char *env_id = env_entry("CONTAINER_ID", cfg->container_id);
	char *env_ns = env_entry("CONTAINER_NAMESPACE", cfg->ns);
	char **argv = calloc(u->n_args + 2, sizeof(char *));
	int r;

	if (!argv || !env_id || !env_ns) {
		r = husk_err_errno(err, ENOMEM, "start logger");
	} else {
		argv[0] = u->path;
		for (size_t i = 0; i < u->n_args; i++)
			argv[i + 1] = u->args[i];
		char *envp[] = {env_id, env_ns, NULL};
		struct husk_spawn_exec x = {.path = u->path, .argv = argv, .envp = envp};
		r = spawn_and_wait_ready(s, &x, out_r, err_r, err);
	}
	free(argv);
	free(env_id);
	free(env_ns);
	return r;
}

/* binary://: the logger reads the process's stdout and stderr pipes as fds 3 and 4. */
static int setup_binary(struct shim_stdio *s, const struct shim_stdio_config *cfg,
			const struct shim_stdio_uri *u, struct husk_err *err)
{
	int out_r = -1;
	int err_r = -1;
	int out_w = -1;
	int err_w = -1;
	int r = make_pipe(cfg, &out_r, &out_w, err);

	if (r == 0)
		r = make_pipe(cfg, &err_r, &err_w, err);
	if (r == 0)
		r = spawn_logger(s, cfg, u, out_r, err_r, err);
	husk_safe_close(out_r);
	husk_safe_close(err_r);
	if (s->terminal) {
		/* The pty output goes to the logger's stdout pipe through a copy. */
		s->dst_fds[OUT] = out_w;
		s->keep_fds[1] = err_w;
	} else {
		s->child_fds[OUT] = out_w;
		s->child_fds[ERR] = err_w;
	}
	return r;
}

static void fds_reset(struct shim_stdio *s)
{
	for (int i = 0; i < 3; i++)
		s->child_fds[i] = s->src_fds[i] = s->dst_fds[i] = -1;
	s->stdin_closer = s->console = -1;
	s->keep_fds[0] = s->keep_fds[1] = -1;
	s->logger = HUSK_CHILD_NULL;
}

static void fds_close(struct shim_stdio *s)
{
	for (int i = 0; i < 3; i++) {
		s->child_fds[i] = husk_safe_close(s->child_fds[i]);
		s->src_fds[i] = husk_safe_close(s->src_fds[i]);
		s->dst_fds[i] = husk_safe_close(s->dst_fds[i]);
	}
	s->stdin_closer = husk_safe_close(s->stdin_closer);
	s->console = husk_safe_close(s->console);
	s->keep_fds[0] = husk_safe_close(s->keep_fds[0]);
	s->keep_fds[1] = husk_safe_close(s->keep_fds[1]);
}

static int setup(struct shim_stdio *s, const struct shim_stdio_config *cfg, struct husk_err *err)
{
	struct shim_stdio_uri u;
	const char *paths[3] = {cfg->stdin_path, cfg->stdout_path, cfg->stderr_path};
	int r;

	/* The scheme of stdout decides, as in containerd's runc shim. */
	r = shim_stdio_uri_parse(cfg->stdout_path, &u, err);
	if (r < 0)
		return r;
	s->kind = u.kind;
	switch (u.kind) {
	case SHIM_STDIO_NONE:
	case SHIM_STDIO_FIFO:
		r = setup_fifos(s, cfg, paths, err);
		break;
	case SHIM_STDIO_BINARY:
		r = setup_binary(s, cfg, &u, err);
		if (r == 0 && s->terminal && paths[IN] && *paths[IN])
			r = setup_fifos(s, cfg, (const char *[3]){paths[IN], NULL, NULL}, err);
		break;
	case SHIM_STDIO_FILE:
		r = setup_file(s, &u, err);
		break;
	}
	shim_stdio_uri_done(&u);
	return r;
}

int shim_stdio_new(uv_loop_t *loop, const struct shim_stdio_config *cfg, struct shim_stdio **ret,
		   struct husk_err *err)
{
	struct shim_stdio *s = calloc(1, sizeof(*s));

	if (!s)
		return husk_err_errno(err, ENOMEM, "allocate stdio");
	s->loop = loop;
	s->terminal = cfg->terminal;
	fds_reset(s);
	int r = setup(s, cfg, err);
	if (r < 0) {
		if (s->logger.pid > 0)
			shim_child_kill_and_reap(&s->logger);
		fds_close(s);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void shim_stdio_child_fds(const struct shim_stdio *s, int ret[3])
{
	for (int i = 0; i < 3; i++)
		ret[i] = s->child_fds[i];
}

static int start_terminal(struct shim_stdio *s, int master, struct husk_err *err)
{
	int r;

	s->console = master;
	if (s->src_fds[IN] >= 0) {
		int w = fcntl(master, F_DUPFD_CLOEXEC, 3);
		if (w < 0)
			return husk_err_errno(err, errno, "dup console");
		r = copier_start(s, &s->cp[IN], TAKE_FD(s->src_fds[IN]), w, false, err);
		if (r < 0)
			return r;
	}
	if (s->dst_fds[OUT] >= 0) {
		int rd = fcntl(master, F_DUPFD_CLOEXEC, 3);
		if (rd < 0)
			return husk_err_errno(err, errno, "dup console");
		r = copier_start(s, &s->cp[OUT], rd, TAKE_FD(s->dst_fds[OUT]), true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int shim_stdio_start(struct shim_stdio *s, int master, struct husk_err *err)
{
	/* The process has its own copies now; ours would keep the pipes from ever ending. */
	for (int i = 0; i < 3; i++) {
		if (s->kind == SHIM_STDIO_BINARY && i > IN && s->child_fds[i] >= 0)
			s->keep_fds[i - 1] = TAKE_FD(s->child_fds[i]);
		s->child_fds[i] = husk_safe_close(s->child_fds[i]);
	}
	if (s->terminal) {
		if (master < 0)
			return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "no console for a terminal");
		return start_terminal(s, master, err);
	}
	husk_safe_close(master);
	for (int i = 0; i < 3; i++) {
		if (s->src_fds[i] < 0 || s->dst_fds[i] < 0)
			continue;
		int r = copier_start(s, &s->cp[i], TAKE_FD(s->src_fds[i]), TAKE_FD(s->dst_fds[i]),
				     i != IN, err);
		if (r < 0)
			return r;
	}
	return 0;
}

bool shim_stdio_take_logger(struct shim_stdio *s, struct husk_child *ret)
{
	if (s->logger.pid <= 0)
		return false;
	*ret = s->logger;
	s->logger = HUSK_CHILD_NULL;
	return true;
}

void shim_stdio_close_stdin(struct shim_stdio *s)
{
	s->stdin_closer = husk_safe_close(s->stdin_closer);
}

int shim_stdio_resize(struct shim_stdio *s, uint32_t width, uint32_t height, struct husk_err *err)
{
	struct winsize ws = {.ws_col = (unsigned short)width, .ws_row = (unsigned short)height};

	if (s->console < 0)
		return 0;
	if (ioctl(s->console, TIOCSWINSZ, &ws) < 0)
		return husk_err_errno(err, errno, "resize console");
	return 0;
}

bool shim_stdio_drained(const struct shim_stdio *s)
{
	return s->outputs_running == 0;
}

void shim_stdio_on_drained(struct shim_stdio *s, shim_stdio_drained_fn *cb, void *userdata)
{
	s->drained_cb = cb;
	s->drained_data = userdata;
	s->drained_called = false;
	notify_drained(s);
}

size_t shim_stdio_queued(const struct shim_stdio *s)
{
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		if (s->cp[i].dst_open)
			n += uv_stream_get_write_queue_size((const uv_stream_t *)&s->cp[i].dst);
	return n;
}

void shim_stdio_close(struct shim_stdio *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	for (int i = 0; i < 3; i++) {
		close_retry(s, &s->cp[i]);
		close_linger(s, &s->cp[i]);
		close_handle(s, &s->cp[i].src, &s->cp[i].src_open);
		close_handle(s, &s->cp[i].dst, &s->cp[i].dst_open);
	}
	/* Only on error paths is the logger still ours: nobody else would reap it. */
	if (s->logger.pid > 0)
		shim_child_kill_and_reap(&s->logger);
	fds_close(s);
	maybe_free(s);
}

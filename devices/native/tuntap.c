// tuntap.node: Linux TUN and TAP devices for tcplab, as a Node-API addon in
// plain C (no node-addon-api).
//
//   const dev = new Tuntap(kind, name, netnsPath)   // kind 'tun' | 'tap'
//   dev.name                // the interface name the kernel gave
//   dev.start(callback)     // callback(arrayBuffer, count) per readable turn
//   dev.lengths             // Uint32Array: byte length of each frame of the batch
//   dev.write(frames)       // frames: Uint8Array[]; returns how many were written
//   dev.ref() / dev.unref() // whether polling keeps the event loop alive
//   dev.stop() / dev.close() / dev.stats() / dev.kernelMac()
//
// The fd is opened with O_NONBLOCK and watched by a uv_poll_t on Node's own
// event loop. On each readable turn the poll callback reads until EAGAIN or
// MAX_BATCH frames into a preallocated arena, copies the used part into ONE
// new ArrayBuffer and makes ONE JavaScript call with it; the frame lengths
// are written into a Uint32Array shared with JavaScript for the life of the
// device (it is read synchronously inside the callback). That costs one
// allocation and one memcpy per batch, not per frame, and since the frames
// handed to the stack are views of a buffer sized to the batch, a frame the
// stack keeps (receive queue, reassembly) pins only its own batch.
//
// The interface can be created inside another network namespace: the open
// runs on a short-lived helper thread that setns()es into the namespace,
// opens /dev/net/tun and issues TUNSETIFF (a tun device belongs to the
// namespace current at open time), then exits. The fd keeps working from the
// main thread, and no thread of Node ever leaves its own namespace.

#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define KIND_TUN 1
#define KIND_TAP 2

/** Frames read per event-loop turn at most; the rest wait for the next turn (the poll is level-triggered). */
#define MAX_BATCH 256
/** Read space per frame: the largest IPv4 packet plus an Ethernet header with a VLAN tag. */
#define FRAME_MAX (65535 + 18)
/** The arena: room for MAX_BATCH full-size Ethernet frames, and always for at least one FRAME_MAX read. */
#define ARENA_BYTES (MAX_BATCH * 1536 + FRAME_MAX)

typedef struct {
  napi_env env;
  int fd;
  int kind;
  char name[IFNAMSIZ];

  uv_poll_t poll;
  int poll_inited; /* uv_poll_init done */
  int poll_open;   /* inited and its close callback has not run yet */
  int polling;     /* uv_poll_start active */
  int refed;       /* whether the poll handle keeps the loop alive */
  int closed;      /* fd closed (close(), GC or environment teardown) */
  int wrapped;     /* the JS object still exists */
  int in_teardown; /* the environment is going away: no more JS */

  napi_ref callback;      /* strong while polling */
  napi_ref lengths_ref;   /* the shared Uint32Array */
  uint32_t* lengths;      /* its memory */
  napi_async_context actx;
  napi_async_cleanup_hook_handle hook;

  uint8_t* arena;

  /* counters */
  double rx_frames, rx_batches, rx_bytes, rx_errors;
  double tx_frames, tx_bytes, tx_eagain, tx_errors;
  int last_rx_errno, last_tx_errno;
} Device;

/* ------------------------------------------------------------------ helpers */

#define CALL(env, expr)                                    \
  do {                                                     \
    napi_status status_ = (expr);                          \
    if (status_ != napi_ok) {                              \
      throw_last_napi_error((env), #expr);                 \
      return NULL;                                         \
    }                                                      \
  } while (0)

static void throw_last_napi_error(napi_env env, const char* what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "tuntap: %s failed: %s", what,
           info != NULL && info->error_message != NULL ? info->error_message : "unknown error");
  napi_throw_error(env, NULL, msg);
}

static const char* errno_code(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EBADFD: return "EBADFD";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOSYS: return "ENOSYS";
    default: return "EUNKNOWN";
  }
}

/** Throw an Error with code, errno and syscall set, as Node's system errors have. */
static void throw_system_error(napi_env env, int err, const char* syscall, const char* message) {
  napi_value msg, error, code, errnum, sys;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return;
  if (napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_error(env, code, msg, &error) != napi_ok) return;
  napi_create_int32(env, -err, &errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "errno", errnum);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
}

/* ------------------------------------------------------------------ open */

typedef struct {
  const char* netns; /* path of a network namespace (/run/netns/NAME, /proc/PID/ns/net) or NULL */
  int kind;
  char name[IFNAMSIZ];
  int fd;
  int err;
  const char* step;
} OpenRequest;

static void open_device(OpenRequest* req) {
  req->fd = -1;
  if (req->netns != NULL) {
    int nsfd = open(req->netns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
      req->err = errno;
      req->step = "open netns";
      return;
    }
    /* Only this helper thread moves; it exits right after. */
    int r = setns(nsfd, CLONE_NEWNET);
    int e = errno;
    close(nsfd);
    if (r < 0) {
      req->err = e;
      req->step = "setns";
      return;
    }
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    req->err = errno;
    req->step = "open";
    return;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = (short)((req->kind == KIND_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
  memcpy(ifr.ifr_name, req->name, IFNAMSIZ);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    req->err = errno;
    req->step = "ioctl";
    close(fd);
    return;
  }
  memcpy(req->name, ifr.ifr_name, IFNAMSIZ);
  req->name[IFNAMSIZ - 1] = '\0';
  req->fd = fd;
  req->err = 0;
}

static void* open_thread(void* arg) {
  open_device((OpenRequest*)arg);
  return NULL;
}

/* ------------------------------------------------------------------ lifetime */

static void maybe_free(Device* d) {
  if (d->wrapped || d->poll_open || d->hook != NULL) return;
  free(d->arena);
  free(d);
}

static void on_poll_closed(uv_handle_t* handle) {
  Device* d = (Device*)handle->data;
  d->poll_open = 0;
  if (d->hook != NULL) {
    napi_async_cleanup_hook_handle hook = d->hook;
    d->hook = NULL;
    napi_remove_async_cleanup_hook(hook);
  }
  maybe_free(d);
}

/**
 * Close the fd and the poll handle. Idempotent. With `js` false (GC
 * finalizer, environment teardown) no JavaScript value is touched beyond
 * deleting references.
 */
static void device_close(Device* d, int js) {
  if (d->closed) return;
  d->closed = 1;
  if (d->polling) {
    uv_poll_stop(&d->poll);
    d->polling = 0;
  }
  /* At environment teardown the references go with the environment. */
  if (d->callback != NULL) {
    if (!d->in_teardown) napi_delete_reference(d->env, d->callback);
    d->callback = NULL;
  }
  if (d->lengths_ref != NULL) {
    if (!d->in_teardown) napi_delete_reference(d->env, d->lengths_ref);
    d->lengths_ref = NULL;
  }
  d->lengths = NULL;
  if (d->actx != NULL && js) {
    napi_async_destroy(d->env, d->actx);
  }
  d->actx = NULL;
  if (d->fd >= 0) {
    close(d->fd);
    d->fd = -1;
  }
  if (d->poll_inited) {
    /* The hook (if any) is removed in on_poll_closed, once libuv is done with the handle. */
    uv_close((uv_handle_t*)&d->poll, on_poll_closed);
    d->poll_inited = 0;
  } else if (d->hook != NULL) {
    napi_async_cleanup_hook_handle hook = d->hook;
    d->hook = NULL;
    napi_remove_async_cleanup_hook(hook);
  }
}

/** Node is tearing the environment down (process exit, worker end): close, and tell Node when the handle is gone. */
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void* arg) {
  Device* d = (Device*)arg;
  (void)handle;
  d->in_teardown = 1;
  if (!d->closed) {
    device_close(d, 0);
  }
  /* If the handle was already closing, on_poll_closed removes the hook. */
  if (!d->poll_open && d->hook != NULL) {
    napi_async_cleanup_hook_handle hook = d->hook;
    d->hook = NULL;
    napi_remove_async_cleanup_hook(hook);
  }
  maybe_free(d);
}

static void finalize_device(napi_env env, void* data, void* hint) {
  Device* d = (Device*)data;
  (void)env;
  (void)hint;
  d->wrapped = 0;
  device_close(d, 0);
  maybe_free(d);
}

/* ------------------------------------------------------------------ reading */

static void deliver(Device* d, napi_value arraybuffer, int32_t count) {
  napi_env env = d->env;
  napi_value cb, global, argv[2], result;
  if (d->callback == NULL) return;
  if (napi_get_reference_value(env, d->callback, &cb) != napi_ok || cb == NULL) return;
  napi_get_global(env, &global);
  argv[0] = arraybuffer;
  napi_create_int32(env, count, &argv[1]);
  napi_status s = napi_make_callback(env, d->actx, global, cb, 2, argv, &result);
  if (s == napi_pending_exception) {
    /* An exception in the receiver: report it as uncaught, as Node does for its own handles. */
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  Device* d = (Device*)handle->data;
  (void)events;
  if (d->closed || d->in_teardown) return;
  napi_handle_scope scope;
  if (status < 0) {
    /* The fd is unusable: stop watching it and tell JavaScript (null, -errno). */
    uv_poll_stop(&d->poll);
    d->polling = 0;
    d->last_rx_errno = -status;
    if (napi_open_handle_scope(d->env, &scope) != napi_ok) return;
    napi_value nul;
    napi_get_null(d->env, &nul);
    deliver(d, nul, status);
    napi_close_handle_scope(d->env, scope);
    return;
  }
  size_t used = 0;
  int32_t n = 0;
  int hard_error = 0;
  uint32_t lengths[MAX_BATCH];
  while (n < MAX_BATCH && ARENA_BYTES - used >= FRAME_MAX) {
    ssize_t r = read(d->fd, d->arena + used, FRAME_MAX);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      d->rx_errors++;
      d->last_rx_errno = errno;
      hard_error = errno;
      break;
    }
    if (r == 0) break;
    lengths[n++] = (uint32_t)r;
    used += (size_t)r;
  }
  if (n == 0 && hard_error == 0) return;
  if (napi_open_handle_scope(d->env, &scope) != napi_ok) return;
  if (n > 0) {
    d->rx_frames += n;
    d->rx_batches++;
    d->rx_bytes += (double)used;
    void* data = NULL;
    napi_value ab;
    if (napi_create_arraybuffer(d->env, used, &data, &ab) == napi_ok) {
      memcpy(data, d->arena, used);
      if (d->lengths != NULL) memcpy(d->lengths, lengths, (size_t)n * sizeof lengths[0]);
      deliver(d, ab, n);
    }
  }
  if (hard_error != 0 && !d->closed) {
    /* EBADFD: the interface is gone (its namespace was deleted, say). A level-triggered poll would spin: stop. */
    if (d->polling) {
      uv_poll_stop(&d->poll);
      d->polling = 0;
    }
    napi_value nul;
    napi_get_null(d->env, &nul);
    deliver(d, nul, -hard_error);
  }
  napi_close_handle_scope(d->env, scope);
}

/* ------------------------------------------------------------------ methods */

static Device* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) {
    throw_last_napi_error(env, "napi_get_cb_info");
    return NULL;
  }
  Device* d = NULL;
  if (napi_unwrap(env, self, (void**)&d) != napi_ok || d == NULL) {
    napi_throw_type_error(env, NULL, "tuntap: not a Tuntap object");
    return NULL;
  }
  return d;
}

static napi_value js_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/** new Tuntap(kind: 'tun'|'tap', name: string, netnsPath: string|null) */
static napi_value Construct(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "Tuntap(kind, name, netnsPath?)");
    return NULL;
  }
  char kind[8] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], kind, sizeof kind, &len) != napi_ok ||
      (strcmp(kind, "tun") != 0 && strcmp(kind, "tap") != 0)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "Tuntap: kind must be 'tun' or 'tap'");
    return NULL;
  }
  OpenRequest req;
  memset(&req, 0, sizeof req);
  req.kind = strcmp(kind, "tap") == 0 ? KIND_TAP : KIND_TUN;
  char name[64] = {0};
  if (napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "Tuntap: name must be a string ('' lets the kernel choose)");
    return NULL;
  }
  if (len >= IFNAMSIZ) {
    napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "Tuntap: interface names are at most 15 bytes");
    return NULL;
  }
  memcpy(req.name, name, len);
  char netns[4096] = {0};
  napi_valuetype t = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &t);
  if (t == napi_string) {
    if (napi_get_value_string_utf8(env, argv[2], netns, sizeof netns, &len) != napi_ok || len == 0 || len >= sizeof netns - 1) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "Tuntap: bad netns path");
      return NULL;
    }
    req.netns = netns;
  } else if (t != napi_undefined && t != napi_null) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "Tuntap: netnsPath must be a string or null");
    return NULL;
  }

  if (req.netns != NULL) {
    pthread_t th;
    int e = pthread_create(&th, NULL, open_thread, &req);
    if (e != 0) {
      throw_system_error(env, e, "pthread_create", "tuntap: cannot start the thread that opens the device inside the namespace");
      return NULL;
    }
    pthread_join(th, NULL);
  } else {
    open_device(&req);
  }

  if (req.fd < 0) {
    char msg[640];
    int e = req.err;
    const char* kindName = req.kind == KIND_TAP ? "TAP" : "TUN";
    if (strcmp(req.step, "open") == 0 && (e == ENOENT || e == ENODEV || e == ENXIO)) {
      snprintf(msg, sizeof msg,
               "tuntap: cannot open /dev/net/tun (%s): the tun driver is missing; %s devices need /dev/net/tun "
               "(modprobe tun, or --device /dev/net/tun in a container) and CAP_NET_ADMIN (run as root)",
               strerror(e), kindName);
    } else if (e == EPERM || e == EACCES) {
      snprintf(msg, sizeof msg,
               "tuntap: %s %s failed (%s): creating %s devices needs CAP_NET_ADMIN (run as root)%s and access to /dev/net/tun",
               req.step, strcmp(req.step, "open") == 0 ? "/dev/net/tun" : (strcmp(req.step, "ioctl") == 0 ? "TUNSETIFF" : req.netns),
               strerror(e), kindName, req.netns != NULL ? ", entering a network namespace needs CAP_SYS_ADMIN," : "");
    } else if (strcmp(req.step, "ioctl") == 0) {
      snprintf(msg, sizeof msg, "tuntap: TUNSETIFF for %s device '%s' failed (%s)%s", kindName, name, strerror(e),
               e == EBUSY || e == EINVAL ? ": is the name taken by another interface?" : "");
    } else if (strcmp(req.step, "open netns") == 0) {
      snprintf(msg, sizeof msg, "tuntap: cannot open network namespace %s (%s)", netns, strerror(e));
    } else {
      snprintf(msg, sizeof msg, "tuntap: %s failed (%s)", req.step, strerror(e));
    }
    throw_system_error(env, e, strcmp(req.step, "ioctl") == 0 ? "ioctl" : req.step, msg);
    return NULL;
  }

  Device* d = (Device*)calloc(1, sizeof *d);
  uint8_t* arena = (uint8_t*)malloc(ARENA_BYTES);
  if (d == NULL || arena == NULL) {
    free(d);
    free(arena);
    close(req.fd);
    throw_system_error(env, ENOMEM, "malloc", "tuntap: out of memory");
    return NULL;
  }
  d->env = env;
  d->fd = req.fd;
  d->kind = req.kind;
  memcpy(d->name, req.name, IFNAMSIZ);
  d->arena = arena;
  d->poll.data = d;

  /* The shared lengths array. */
  void* ldata = NULL;
  napi_value lab, lengths;
  if (napi_create_arraybuffer(env, MAX_BATCH * sizeof(uint32_t), &ldata, &lab) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, MAX_BATCH, lab, 0, &lengths) != napi_ok ||
      napi_create_reference(env, lengths, 1, &d->lengths_ref) != napi_ok) {
    close(d->fd);
    free(arena);
    free(d);
    throw_last_napi_error(env, "creating the lengths array");
    return NULL;
  }
  d->lengths = (uint32_t*)ldata;

  napi_value resource_name;
  napi_create_string_utf8(env, "tcplab:tuntap", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_async_init(env, NULL, resource_name, &d->actx) != napi_ok) d->actx = NULL;

  if (napi_wrap(env, self, d, finalize_device, NULL, NULL) != napi_ok) {
    device_close(d, 1);
    free(arena);
    free(d);
    throw_last_napi_error(env, "napi_wrap");
    return NULL;
  }
  d->wrapped = 1;
  if (napi_add_async_cleanup_hook(env, on_env_teardown, d, &d->hook) != napi_ok) d->hook = NULL;

  napi_value v;
  napi_create_string_utf8(env, d->name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, self, "name", v);
  napi_set_named_property(env, self, "lengths", lengths);
  napi_create_int32(env, MAX_BATCH, &v);
  napi_set_named_property(env, self, "maxBatch", v);
  return self;
}

/** start(callback): begin polling; callback(arrayBuffer, count) per turn, or (null, -errno) if the fd fails. */
static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Device* d = unwrap(env, info, &argc, argv);
  if (d == NULL) return NULL;
  if (d->closed) {
    throw_system_error(env, EBADF, "start", "tuntap: device is closed");
    return NULL;
  }
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "tuntap: start(callback) needs a function");
    return NULL;
  }
  if (d->callback != NULL) napi_delete_reference(env, d->callback);
  d->callback = NULL;
  CALL(env, napi_create_reference(env, argv[0], 1, &d->callback));
  if (!d->poll_inited) {
    uv_loop_t* loop = NULL;
    CALL(env, napi_get_uv_event_loop(env, &loop));
    int r = uv_poll_init(loop, &d->poll, d->fd);
    if (r < 0) {
      throw_system_error(env, -r, "uv_poll_init", "tuntap: uv_poll_init failed");
      return NULL;
    }
    d->poll.data = d;
    d->poll_inited = 1;
    d->poll_open = 1;
    if (!d->refed) uv_unref((uv_handle_t*)&d->poll);
  }
  if (!d->polling) {
    int r = uv_poll_start(&d->poll, UV_READABLE, on_readable);
    if (r < 0) {
      throw_system_error(env, -r, "uv_poll_start", "tuntap: uv_poll_start failed");
      return NULL;
    }
    d->polling = 1;
  }
  return js_undefined(env);
}

/** stop(): stop polling (frames then wait in the kernel's queue, which drops when full). */
static napi_value Stop(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  if (d->polling) {
    uv_poll_stop(&d->poll);
    d->polling = 0;
  }
  if (d->callback != NULL) {
    napi_delete_reference(env, d->callback);
    d->callback = NULL;
  }
  return js_undefined(env);
}

/** write(frames: Uint8Array[], count?: number): number written; the rest are dropped (counted by errno class). */
static napi_value Write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  Device* d = unwrap(env, info, &argc, argv);
  if (d == NULL) return NULL;
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "tuntap: write(frames) needs an array of Uint8Array");
    return NULL;
  }
  uint32_t n = 0;
  CALL(env, napi_get_array_length(env, argv[0], &n));
  if (argc >= 2) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_number) {
      uint32_t c = 0;
      napi_get_value_uint32(env, argv[1], &c);
      if (c < n) n = c;
    }
  }
  uint32_t written = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    CALL(env, napi_get_element(env, argv[0], i, &el));
    bool is_ta = false;
    napi_is_typedarray(env, el, &is_ta);
    if (!is_ta) {
      d->tx_errors++;
      continue;
    }
    napi_typedarray_type type;
    size_t length = 0;
    void* data = NULL;
    CALL(env, napi_get_typedarray_info(env, el, &type, &length, &data, NULL, NULL));
    if (type != napi_uint8_array || d->closed) {
      d->tx_errors++;
      continue;
    }
    for (;;) {
      ssize_t r = write(d->fd, data, length);
      if (r >= 0) {
        written++;
        d->tx_frames++;
        d->tx_bytes += (double)length;
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        /* The device's queue is full: drop, as a full NIC queue does; TCP recovers. */
        d->tx_eagain++;
        d->last_tx_errno = errno;
      } else {
        /* EIO: the interface is down; EINVAL: a malformed frame. */
        d->tx_errors++;
        d->last_tx_errno = errno;
      }
      break;
    }
  }
  napi_value result;
  napi_create_uint32(env, written, &result);
  return result;
}

static napi_value Ref(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  d->refed = 1;
  if (d->poll_inited) uv_ref((uv_handle_t*)&d->poll);
  return js_undefined(env);
}

static napi_value Unref(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  d->refed = 0;
  if (d->poll_inited) uv_unref((uv_handle_t*)&d->poll);
  return js_undefined(env);
}

static napi_value HasRef(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  napi_value v;
  napi_get_boolean(env, d->refed && d->polling && !d->closed, &v);
  return v;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  device_close(d, 1);
  return js_undefined(env);
}

static void set_number(napi_env env, napi_value obj, const char* key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

static napi_value Stats(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  napi_value o;
  CALL(env, napi_create_object(env, &o));
  set_number(env, o, "rxFrames", d->rx_frames);
  set_number(env, o, "rxBatches", d->rx_batches);
  set_number(env, o, "rxBytes", d->rx_bytes);
  set_number(env, o, "rxErrors", d->rx_errors);
  set_number(env, o, "txFrames", d->tx_frames);
  set_number(env, o, "txBytes", d->tx_bytes);
  set_number(env, o, "txEagain", d->tx_eagain);
  set_number(env, o, "txErrors", d->tx_errors);
  set_number(env, o, "lastRxErrno", d->last_rx_errno);
  set_number(env, o, "lastTxErrno", d->last_tx_errno);
  return o;
}

/** kernelMac(): the kernel side's hardware address of a TAP interface (SIOCGIFHWADDR on the tun fd), or null. */
static napi_value KernelMac(napi_env env, napi_callback_info info) {
  Device* d = unwrap(env, info, NULL, NULL);
  if (d == NULL) return NULL;
  napi_value result;
  if (d->closed || d->kind != KIND_TAP) {
    napi_get_null(env, &result);
    return result;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(d->fd, SIOCGIFHWADDR, &ifr) < 0) {
    throw_system_error(env, errno, "ioctl", "tuntap: SIOCGIFHWADDR failed");
    return NULL;
  }
  void* data = NULL;
  CALL(env, napi_create_buffer_copy(env, 6, ifr.ifr_hwaddr.sa_data, &data, &result));
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"start", NULL, Start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, Stop, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, Write, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, Ref, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, Unref, NULL, NULL, NULL, napi_default, NULL},
      {"hasRef", NULL, HasRef, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
      {"kernelMac", NULL, KernelMac, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  CALL(env, napi_define_class(env, "Tuntap", NAPI_AUTO_LENGTH, Construct, NULL,
                              sizeof methods / sizeof methods[0], methods, &cls));
  CALL(env, napi_set_named_property(env, exports, "Tuntap", cls));
  napi_value v;
  napi_create_int32(env, MAX_BATCH, &v);
  napi_set_named_property(env, exports, "MAX_BATCH", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

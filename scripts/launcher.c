/*
 * The customer's one-file SupportLink program on Linux: this launcher, then the program's
 * folder as a gzip'd tar, then a footer; a server may append a binding (wire/binding.py)
 * after all of it.
 *
 *   [launcher ELF][payload: tar.gz of supportlink-peer/][u64 LE payload size][key: 32 hex]
 *   [magic "SLPAYLD1"]  [binding, optional: ... u32 BE length, "SLINK-BINDING-01"]
 *
 * The first start unpacks the folder into $XDG_CACHE_HOME/supportlink/<key> (or
 * ~/.cache/...), private to the user, through a temporary folder renamed into place once
 * complete; later starts of the same build find it there and start at once, which is what
 * makes a warm start fast (a PyInstaller one-file program unpacks ~95 MB on every start).
 * Then it runs the unpacked program with SUPPORTLINK_PROGRAM set to this file, so that the
 * program reads the binding from the file the customer downloaded.
 *
 * Only libc; gzip and tar are those of the system (every Linux desktop has both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC "SLPAYLD1"
#define BINDING_MAGIC "SLINK-BINDING-01"
#define KEY_LEN 32
#define FOOTER_LEN (8 + KEY_LEN + 8)
#define BINDING_FIXED (32 + 4 + 16)
#define APP "supportlink-peer"

static void fail(const char *what) {
    fprintf(stderr, "supportlink-peer: cannot start: %s%s%s\n", what, errno ? ": " : "",
            errno ? strerror(errno) : "");
    exit(70);
}

/* snprintf that refuses to cut a path short. */
#define PATH_FMT(buf, ...)                                                     \
    do {                                                                       \
        int len_ = snprintf((buf), sizeof(buf), __VA_ARGS__);                  \
        if (len_ < 0 || (size_t)len_ >= sizeof(buf)) {                         \
            errno = ENAMETOOLONG;                                              \
            fail("the cache folder's path is too long");                       \
        }                                                                      \
    } while (0)

static int read_at(int fd, off_t at, void *buf, size_t n) {
    ssize_t got = pread(fd, buf, n, at);
    return got == (ssize_t)n ? 0 : -1;
}

/* Where the payload's footer ends: the file's end, or the start of an appended binding. */
static off_t footer_end(int fd, off_t size) {
    unsigned char tail[4 + 16];
    if (size >= BINDING_FIXED && read_at(fd, size - 20, tail, 20) == 0 &&
        memcmp(tail + 4, BINDING_MAGIC, 16) == 0) {
        uint32_t len = ((uint32_t)tail[0] << 24) | ((uint32_t)tail[1] << 16) |
                       ((uint32_t)tail[2] << 8) | tail[3];
        if (len <= 4096 && (off_t)(len + BINDING_FIXED) <= size) return size - len - BINDING_FIXED;
    }
    return size;
}

static int mkdirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int bad = mkdir(path, 0700) != 0 && errno != EEXIST;
        *p = '/';
        if (bad) return -1;
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int run(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Unpack the payload into dir/.tmp-PID, then rename it to dir/KEY. */
static void unpack(int fd, off_t at, uint64_t size, const char *dir, const char *key) {
    char tmp[PATH_MAX + 64], final[PATH_MAX + 64];
    PATH_FMT(tmp, "%s/.tmp-%s-%ld", dir, key, (long)getpid());
    PATH_FMT(final, "%s/%s", dir, key);
    if (mkdir(tmp, 0700) != 0) fail("cannot make a folder in the cache");
    int pipefd[2];
    if (pipe(pipefd) != 0) fail("pipe");
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        dup2(pipefd[0], 0);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp("tar", "tar", "-x", "-z", "-f", "-", "-C", tmp, (char *)NULL);
        _exit(127);
    }
    close(pipefd[0]);
    static char buf[1 << 16];
    uint64_t sent = 0;
    while (sent < size) {
        size_t want = size - sent < sizeof buf ? (size_t)(size - sent) : sizeof buf;
        ssize_t got = pread(fd, buf, want, at + (off_t)sent);
        if (got <= 0) fail("cannot read this program's own file");
        for (ssize_t off = 0; off < got;) {
            ssize_t put = write(pipefd[1], buf + off, (size_t)(got - off));
            if (put < 0 && errno == EINTR) continue;
            if (put <= 0) fail("tar stopped reading (is tar installed?)");
            off += put;
        }
        sent += (uint64_t)got;
    }
    close(pipefd[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *rm[] = {"rm", "-rf", tmp, NULL};
        run(rm);
        errno = 0;
        fail("unpacking failed (is there room in your home folder's cache?)");
    }
    if (rename(tmp, final) != 0) { /* another start got there first: use theirs */
        char *rm[] = {"rm", "-rf", tmp, NULL};
        run(rm);
    }
}

int main(int argc, char **argv) {
    (void)argc;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) fail("cannot find this program's own file");
    self[n] = 0;
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot read this program's own file");
    struct stat st;
    if (fstat(fd, &st) != 0) fail("cannot read this program's own file");
    off_t end = footer_end(fd, st.st_size);
    unsigned char footer[FOOTER_LEN];
    if (end < FOOTER_LEN || read_at(fd, end - FOOTER_LEN, footer, FOOTER_LEN) != 0 ||
        memcmp(footer + 8 + KEY_LEN, MAGIC, 8) != 0) {
        errno = 0;
        fail("this file is incomplete; download SupportLink again");
    }
    uint64_t size = 0;
    for (int i = 7; i >= 0; i--) size = (size << 8) | footer[i];
    char key[KEY_LEN + 1];
    memcpy(key, footer + 8, KEY_LEN);
    key[KEY_LEN] = 0;
    for (int i = 0; i < KEY_LEN; i++)
        if (!strchr("0123456789abcdef", key[i])) {
            errno = 0;
            fail("this file is damaged; download SupportLink again");
        }
    if (size > (uint64_t)(end - FOOTER_LEN)) {
        errno = 0;
        fail("this file is incomplete; download SupportLink again");
    }
    off_t at = end - FOOTER_LEN - (off_t)size;

    char dir[PATH_MAX];
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache && cache[0] == '/')
        PATH_FMT(dir, "%s/supportlink", cache);
    else if (home && home[0] == '/')
        PATH_FMT(dir, "%s/.cache/supportlink", home);
    else
        PATH_FMT(dir, "/tmp/supportlink-%ld", (long)getuid());
    if (mkdirs(dir) != 0) fail("cannot make the cache folder");
    struct stat dst;
    if (stat(dir, &dst) != 0 || dst.st_uid != getuid() || (dst.st_mode & 022)) {
        errno = 0;
        fail("the cache folder belongs to someone else or others may write to it");
    }
    char program[PATH_MAX + 96];
    PATH_FMT(program, "%s/%s/%s/%s", dir, key, APP, APP);
    if (access(program, X_OK) != 0) unpack(fd, at, size, dir, key);
    close(fd);
    setenv("SUPPORTLINK_PROGRAM", self, 1);
    execv(program, argv);
    fail("cannot run the unpacked program");
    return 70;
}

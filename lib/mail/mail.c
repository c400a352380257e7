/* E-mail building and delivery for notify: see mail.h. GMime does the MIME
 * (encodings, RFC 2047, folding); libcurl does SMTP; this file checks what
 * data may enter a header and writes mbox and Maildir the way their readers
 * expect. */
#include "mail.h"
#include "identifiers.h"
#include "vntext.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gmime/gmime.h>

int cb_mail_global_init(cb_err *err)
{
    g_mime_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cb_err_set(err, EX_SOFTWARE, "cannot initialise libcurl");
    return 0;
}

void cb_mail_global_done(void)
{
    curl_global_cleanup();
    g_mime_shutdown();
}

int cb_mail_address_ok(const char *s)
{
    /* The same addr-spec rule validate-form applies, without its official
     * domain list: notify writes to whoever the records name. */
    return cb_email_check(s, NULL);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || s[0] > 0xF4)
        return 0;
    unsigned c = s[0] & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

char *cb_mail_header_text(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1), *o = out;   /* room for a space before each '?' */
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        size_t l = utf8_len(p, &cp);
        if (l == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029) {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
            p += l ? l : 1;
            continue;
        }
        if (cp == ' ' && (o == out || o[-1] == ' ')) {
            p++;
            continue;
        }
        /* "=?" opens an RFC 2047 encoded-word, which a reader decodes even
         * where GMime leaves the text as it is (a quoted display name):
         * "=?utf-8?q?x?= <evil@x.com>" would read as a second address. A
         * space after the '=' keeps the text readable and inert. */
        if (cp == '?' && o > out && o[-1] == '=')
            *o++ = ' ';
        memcpy(o, p, l);
        o += l;
        p += l;
    }
    while (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return out;
}

int cb_mail_parse_mailbox(const char *spec, char **name, char **addr, cb_err *err)
{
    *name = *addr = NULL;
    if (strpbrk(spec, "\r\n") != NULL)
        return cb_err_set(err, EX_USAGE, "'%s' is not one e-mail address", spec);
    InternetAddressList *l = internet_address_list_parse(NULL, spec);
    int rc = -1;
    if (l != NULL && internet_address_list_length(l) == 1) {
        InternetAddress *ia = internet_address_list_get_address(l, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            const char *n = internet_address_get_name(ia);
            if (a != NULL && cb_mail_address_ok(a)) {
                *addr = strdup(a);
                *name = cb_mail_header_text(n ? n : "");
                rc = 0;
            }
        }
    }
    if (l != NULL)
        g_object_unref(l);
    if (rc < 0)
        return cb_err_set(err, EX_USAGE, "'%s' is not one e-mail address", spec);
    if (*name == NULL || *addr == NULL) {
        free(*name);
        free(*addr);
        *name = *addr = NULL;
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

int cb_mail_build(const cb_mail_msg *m, int crlf, char **out, size_t *len, char **message_id, cb_err *err)
{
    *out = NULL;
    *message_id = NULL;
    if (!cb_mail_address_ok(m->to_addr))
        return cb_err_set(err, EX_DATAERR, "'%s' is not a valid e-mail address", m->to_addr);
    if (!cb_mail_address_ok(m->from_addr))
        return cb_err_set(err, EX_USAGE, "'%s' is not a valid sender address", m->from_addr);
    char *subject = cb_mail_header_text(m->subject ? m->subject : "");
    char *to_name = cb_mail_header_text(m->to_name ? m->to_name : "");
    char *from_name = cb_mail_header_text(m->from_name ? m->from_name : "");
    if (subject == NULL || to_name == NULL || from_name == NULL) {
        free(subject);
        free(to_name);
        free(from_name);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }

    GMimeMessage *msg = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, from_name, m->from_addr);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, to_name, m->to_addr);
    g_mime_message_set_subject(msg, subject, "utf-8");

    GTimeZone *tz = g_time_zone_new_offset(7 * 3600);
    GDateTime *utc = g_date_time_new_from_unix_utc(m->date);
    GDateTime *local = g_date_time_to_timezone(utc, tz);
    g_mime_message_set_date(msg, local);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    g_time_zone_unref(tz);

    const char *domain = strrchr(m->from_addr, '@') + 1;
    char *mid = g_mime_utils_generate_message_id(domain);
    g_mime_message_set_message_id(msg, mid);
    /* RFC 3834: keeps vacation responders from answering a notice. */
    g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-generated", NULL);
    g_mime_object_set_header(GMIME_OBJECT(msg), "Content-Language", "vi", NULL);

    GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(text, m->body ? m->body : "");
    g_mime_text_part_set_charset(text, "utf-8");
    g_mime_object_encode(GMIME_OBJECT(text), GMIME_ENCODING_CONSTRAINT_7BIT);

    if (m->natt == 0) {
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(text));
    } else {
        GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
        g_mime_multipart_add(mp, GMIME_OBJECT(text));
        for (size_t i = 0; i < m->natt; i++) {
            const cb_mail_attachment *a = &m->att[i];
            const char *slash = strchr(a->content_type, '/');
            char *type = strndup(a->content_type, slash ? (size_t)(slash - a->content_type) : strlen(a->content_type));
            GMimePart *part = g_mime_part_new_with_type(type, slash ? slash + 1 : "octet-stream");
            free(type);
            GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)a->data, a->len);
            GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
            g_mime_part_set_content(part, dw);
            g_object_unref(dw);
            g_object_unref(st);
            g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
            char *fname = cb_mail_header_text(a->filename);
            g_mime_part_set_filename(part, fname ? fname : "attachment");
            free(fname);
            g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
            g_mime_multipart_add(mp, GMIME_OBJECT(part));
            g_object_unref(part);
        }
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
        g_object_unref(mp);
    }
    g_object_unref(text);

    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
    char *s = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    free(subject);
    free(to_name);
    free(from_name);

    int rc = 0;
    if (s == NULL || (*out = strdup(s)) == NULL || (*message_id = strdup(mid)) == NULL) {
        free(*out);
        *out = NULL;
        rc = cb_err_set(err, EX_SOFTWARE, "cannot build the message");
    } else {
        *len = strlen(*out);
    }
    g_free(s);
    g_free(mid);
    return rc;
}

/* Delivery. */

struct cb_mailer {
    cb_mailer_opts o;
    char *maildir;
    char **argv;           /* sendmail */
    CURL *curl;
    char *user, *pass;
    unsigned seq;
    char host[64];
    char errbuf[CURL_ERROR_SIZE];
};

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Removes what a killed notify of this host left in tmp/: a letter it was
 * writing (never delivered, the re-run sends it) or one it had linked into
 * new/ but not yet unlinked. Its name says whose: "...P<pid>Q<n>.<host>". */
static void maildir_sweep(const cb_mailer *m)
{
    size_t n = strlen(m->maildir) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return;
    snprintf(tmp, n, "%s/tmp", m->maildir);
    DIR *d = opendir(tmp);
    free(tmp);
    if (d == NULL)
        return;
    struct dirent *de;
    size_t hl = strlen(m->host);
    while ((de = readdir(d)) != NULL) {
        const char *p = strchr(de->d_name, 'P'), *q = p ? strchr(p, 'Q') : NULL;
        size_t l = strlen(de->d_name);
        if (p == NULL || q == NULL || l <= hl || strcmp(de->d_name + l - hl, m->host) != 0 ||
            de->d_name[l - hl - 1] != '.')
            continue;
        long pid = strtol(p + 1, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

static int mkdir_p(const char *path, cb_err *err)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    return cb_err_sys(err, EX_CANTCREAT, "cannot create directory %s", path);
}

static int read_login(cb_mailer *m, const char *path, cb_err *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open login file %s", path);
    char *lines[2] = {NULL, NULL};
    size_t cap[2] = {0, 0};
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        ssize_t n = getline(&lines[i], &cap[i], fp);
        if (n <= 0) {
            rc = cb_err_set(err, EX_DATAERR, "%s: expected the user name on line 1 and the password on line 2", path);
            break;
        }
        while (n > 0 && (lines[i][n - 1] == '\n' || lines[i][n - 1] == '\r'))
            lines[i][--n] = '\0';
    }
    fclose(fp);
    if (rc == 0) {
        m->user = lines[0];
        m->pass = lines[1];
    } else {
        /* getline may leave a buffer without a NUL at EOF: wipe by size. */
        for (int i = 0; i < 2; i++)
            if (lines[i] != NULL) {
                explicit_bzero(lines[i], cap[i]);
                free(lines[i]);
            }
    }
    return rc;
}

cb_mailer *cb_mailer_open(const cb_mailer_opts *o, cb_err *err)
{
    cb_mailer *m = calloc(1, sizeof *m);
    if (m == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    m->o = *o;
    if (gethostname(m->host, sizeof m->host) != 0)
        strcpy(m->host, "localhost");
    m->host[sizeof m->host - 1] = '\0';
    /* Maildir names may not hold '/' or ':'. */
    for (char *p = m->host; *p; p++)
        if (*p == '/' || *p == ':')
            *p = '_';
    switch (o->kind) {
    case CB_MAIL_MBOX:
        break;
    case CB_MAIL_MAILDIR: {
        m->maildir = strdup(o->maildir);
        size_t n = strlen(o->maildir) + 8;
        char *sub = malloc(n);
        if (m->maildir == NULL || sub == NULL) {
            free(sub);
            cb_err_set(err, EX_OSERR, "out of memory");
            goto fail;
        }
        int rc = mkdir_p(o->maildir, err);
        static const char *const subs[] = {"tmp", "new", "cur"};
        for (int i = 0; rc == 0 && i < 3; i++) {
            snprintf(sub, n, "%s/%s", o->maildir, subs[i]);
            rc = mkdir_p(sub, err);
        }
        free(sub);
        if (rc < 0)
            goto fail;
        maildir_sweep(m);
        break;
    }
    case CB_MAIL_SENDMAIL: {
        const char *cmd = o->sendmail ? o->sendmail : "/usr/sbin/sendmail -t -oi";
        size_t n = strlen(cmd);
        m->argv = calloc(n / 2 + 2, sizeof *m->argv);
        if (m->argv == NULL) {
            cb_err_set(err, EX_OSERR, "out of memory");
            goto fail;
        }
        size_t k = 0;
        for (const char *p = cmd; *p;) {
            while (*p == ' ' || *p == '\t')
                p++;
            const char *e = p;
            while (*e && *e != ' ' && *e != '\t')
                e++;
            if (e > p && (m->argv[k++] = strndup(p, (size_t)(e - p))) == NULL) {
                cb_err_set(err, EX_OSERR, "out of memory");
                goto fail;
            }
            p = e;
        }
        if (k == 0) {
            cb_err_set(err, EX_USAGE, "--sendmail: empty command");
            goto fail;
        }
        break;
    }
    case CB_MAIL_SMTP:
        if (o->login_file != NULL && read_login(m, o->login_file, err) < 0)
            goto fail;
        m->curl = curl_easy_init();
        if (m->curl == NULL) {
            cb_err_set(err, EX_SOFTWARE, "cannot start libcurl");
            goto fail;
        }
        break;
    }
    return m;
fail:
    cb_mailer_close(m, NULL);
    return NULL;
}

int cb_mailer_crlf(const cb_mailer *m)
{
    return m->o.kind == CB_MAIL_SMTP;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* mboxrd: a "From " line starts each message, and body lines that look like
 * one (after any '>') get one more '>', so readers can undo it. */
static int send_mbox(cb_mailer *m, const char *env_from, const char *msg, size_t len, cb_err *err)
{
    FILE *fp = m->o.mbox;
    time_t now = time(NULL);
    struct tm tm;
    char date[64];
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    fprintf(fp, "From %s %s\n", env_from, date);
    const char *p = msg, *end = msg + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        const char *q = p;
        while (q < le && *q == '>')
            q++;
        if (le - q >= 5 && memcmp(q, "From ", 5) == 0)
            fputc('>', fp);
        fwrite(p, 1, (size_t)(le - p), fp);
        p = le;
    }
    if (len == 0 || msg[len - 1] != '\n')
        fputc('\n', fp);
    fputc('\n', fp);
    if (ferror(fp))
        return cb_err_sys(err, EX_IOERR, "cannot write the mbox");
    return 0;
}

/* The Maildir way: write under tmp/, fsync, then link into new/, so a
 * reader never sees part of a message. */
static int send_maildir(cb_mailer *m, const char *msg, size_t len, cb_err *err)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    size_t n = strlen(m->maildir) + strlen(m->host) + 96;
    char *name = malloc(n), *tmp = malloc(n), *dst = malloc(n);
    int rc = -1;
    if (name == NULL || tmp == NULL || dst == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        goto out;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(name, n, "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
                 ++m->seq, m->host);
        snprintf(tmp, n, "%s/tmp/%s", m->maildir, name);
        snprintf(dst, n, "%s/new/%s", m->maildir, name);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            cb_err_sys(err, EX_CANTCREAT, "cannot create %s", tmp);
            goto out;
        }
        if (write_all(fd, msg, len) < 0 || fsync(fd) < 0) {
            cb_err_sys(err, EX_IOERR, "cannot write %s", tmp);
            close(fd);
            unlink(tmp);
            goto out;
        }
        close(fd);
        if (link(tmp, dst) < 0) {
            int e = errno;
            unlink(tmp);
            if (e == EEXIST)
                continue;
            errno = e;
            cb_err_sys(err, EX_CANTCREAT, "cannot deliver into %s/new", m->maildir);
            goto out;
        }
        unlink(tmp);
        snprintf(tmp, n, "%s/new", m->maildir);
        int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        rc = 0;
        goto out;
    }
    cb_err_set(err, EX_CANTCREAT, "cannot find a unique file name in %s/tmp", m->maildir);
out:
    free(name);
    free(tmp);
    free(dst);
    return rc;
}

static int send_sendmail(cb_mailer *m, const char *msg, size_t len, cb_err *err)
{
    int pfd[2], efd[2];
    if (pipe(pfd) < 0)
        return cb_err_sys(err, EX_OSERR, "cannot make a pipe");
    /* The child reports a failed exec through this close-on-exec pipe, so
     * "cannot run sendmail" is not mistaken for a refused message. */
    if (pipe(efd) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return cb_err_sys(err, EX_OSERR, "cannot make a pipe");
    }
    fcntl(efd[1], F_SETFD, FD_CLOEXEC);
    fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        close(efd[0]);
        close(efd[1]);
        return cb_err_sys(err, EX_OSERR, "cannot fork");
    }
    if (pid == 0) {
        close(efd[0]);
        if (dup2(pfd[0], 0) < 0)
            _exit(127);
        close(pfd[0]);
        execvp(m->argv[0], m->argv);
        int e = errno;
        (void)!write(efd[1], &e, sizeof e);
        _exit(127);
    }
    close(pfd[0]);
    close(efd[1]);
    /* SIGPIPE would kill us if sendmail exits early; a write error is
     * enough to know. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    int werr = write_all(pfd[1], msg, len) < 0 ? errno : 0;
    close(pfd[1]);
    sigaction(SIGPIPE, &old, NULL);
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(efd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(efd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return cb_err_sys(err, EX_OSERR, "cannot wait for %s", m->argv[0]);
    if (got == (ssize_t)sizeof exec_errno) {
        errno = exec_errno;
        return cb_err_sys(err, EX_UNAVAILABLE, "cannot run %s", m->argv[0]);
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && werr == 0)
        return 0;
    if (WIFEXITED(st)) {
        int c = WEXITSTATUS(st);
        /* sendmail's own sysexits: these say the message itself is bad. */
        if (c == EX_NOUSER || c == EX_NOHOST || c == EX_DATAERR || c == EX_USAGE)
            return cb_err_set(err, EX_NOUSER, "%s refused the message (exit status %d)", m->argv[0], c);
        return cb_err_set(err, EX_TEMPFAIL, "%s failed (exit status %d)", m->argv[0], c);
    }
    return cb_err_set(err, EX_TEMPFAIL, "%s was killed by signal %d", m->argv[0],
                      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static int send_smtp(cb_mailer *m, const char *env_from, const char *rcpt, const char *msg, size_t len,
                     cb_err *err)
{
    CURL *c = m->curl;
    char from[300], to[300];
    snprintf(from, sizeof from, "<%s>", env_from);
    snprintf(to, sizeof to, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, to);
    if (rcpts == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    struct upload u = {msg, len};
    m->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, m->o.smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(m->o.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (m->user != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, m->pass);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, m->o.timeout > 0 ? m->o.timeout : 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpts);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
    if (rc == CURLE_OK)
        return 0;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    const char *why = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);
    if (code >= 500 && code < 600)
        return cb_err_set(err, EX_NOUSER, "the mail server refused the message for %s: %s", rcpt, why);
    return cb_err_set(err, EX_TEMPFAIL, "cannot deliver through %s: %s", m->o.smtp_url, why);
}

int cb_mailer_send(cb_mailer *m, const char *env_from, const char *rcpt, const char *msg, size_t len,
                   cb_err *err)
{
    switch (m->o.kind) {
    case CB_MAIL_MBOX:
        return send_mbox(m, env_from, msg, len, err);
    case CB_MAIL_MAILDIR:
        return send_maildir(m, msg, len, err);
    case CB_MAIL_SENDMAIL:
        return send_sendmail(m, msg, len, err);
    case CB_MAIL_SMTP:
        return send_smtp(m, env_from, rcpt, msg, len, err);
    }
    return cb_err_set(err, EX_SOFTWARE, "unknown transport");
}

int cb_mailer_close(cb_mailer *m, cb_err *err)
{
    int rc = 0;
    if (m == NULL)
        return 0;
    if (m->o.kind == CB_MAIL_MBOX && m->o.mbox != NULL && fflush(m->o.mbox) != 0 && err != NULL)
        rc = cb_err_sys(err, EX_IOERR, "cannot write the mbox");
    if (m->curl != NULL)
        curl_easy_cleanup(m->curl);
    if (m->argv != NULL) {
        for (char **a = m->argv; *a; a++)
            free(*a);
        free(m->argv);
    }
    wipe_free(m->user);
    wipe_free(m->pass);
    free(m->maildir);
    free(m);
    return rc;
}

/*
 * mock-broker: a real Kafka-protocol test broker for the kafka-arena test suite,
 * built on librdkafka's mock cluster (rdkafka_mock.h, librdkafka >= 2.0).
 *
 * Build: gcc -O2 -pthread -o mock-broker mock-broker.c -lrdkafka
 * Usage: mock-broker <brokers> [topic:partitions ...]
 *
 * On start it prints exactly one line and flushes:
 *     BOOTSTRAP 127.0.0.1:PORT1,127.0.0.1:PORT2,...
 * then reads commands from stdin, one per line, and answers each with one line,
 * `OK` or `ERR <message>`:
 *
 *   topic <name> <partitions>             create a topic; partition p is led by
 *                                         broker (p % brokers) + 1 (deterministic;
 *                                         the mock would otherwise pick at random)
 *   leader <topic> <partition> <brokerId> move a partition leader (-1 = none)
 *   down <brokerId> | up <brokerId>       disconnect / re-accept (-1 = all);
 *                                         does NOT move partition leadership
 *   rtt <brokerId> <ms>                   add response latency (-1 = all)
 *   errors <apiKey> <count> <errcode>     the next <count> requests of <apiKey>
 *                                         (any broker, any client) fail with
 *                                         <errcode> (number or name such as
 *                                         NOT_LEADER_FOR_PARTITION; -195 =
 *                                         _TRANSPORT makes the broker disconnect)
 *   brokererrors <brokerId> <apiKey> <count> <errcode> [rttMs]
 *                                         same, on one broker, with optional delay
 *   clear <apiKey>                        drop pending cluster-level errors
 *   coordinator <group|transaction> <key> <brokerId>
 *   apiversion <apiKey> <min> <max>       restrict the advertised version range
 *                                         (-1 -1 disables the API)
 *   ping                                  no-op, answers OK
 *   quit                                  answer OK, then exit 0
 *
 * It exits 0 on stdin EOF and gets SIGTERM when its parent dies, so a test run
 * can never leave it behind. Diagnostics go to stderr; stdout carries only the
 * protocol above.
 *
 * Limits of the librdkafka 2.0.2 mock, hard-coded, not configurable: each
 * partition keeps at most 5 MiB / 100000 record batches (older batches are
 * dropped, moving the log start offset; the newest batch is always kept even if
 * larger); a Fetch response carries at most ONE record batch per partition; an
 * empty Fetch waits the full MaxWaitTime even if data arrives meanwhile. Requests
 * larger than this process's receive.message.max.bytes are refused, so we raise
 * it to the maximum.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_LINE 4096
#define MAX_ARGS 8
#define MAX_PARTITIONS 10000
#define MAX_ERRORS 100000

static rd_kafka_mock_cluster_t *mc;
static int broker_cnt;

/*
 * Op wake-up workaround. Most rd_kafka_mock_*() setters (topic create, leader, up/down, rtt,
 * coordinator, apiversion) enqueue an op for the mock thread and block until it is served,
 * but in librdkafka 2.0.2 the mock thread frequently misses the queue wake-up and only serves
 * the op when its 1 s poll timeout expires: 40 topic creations took 25 s. Any socket event
 * wakes the poll, so while a setter is in flight a helper thread connects to (and immediately
 * closes) the listener of a broker that is up, every 2 ms: the same 40 creations take ~80 ms.
 * The mock just sees a client that connects and leaves without sending a request.
 */
static int *broker_ports; /* index id-1 */
static int *broker_up;    /* our view, maintained by down/up */
static pthread_mutex_t poke_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poke_cond  = PTHREAD_COND_INITIALIZER;
static int poke_busy;

static void *poke_main(void *arg) {
        (void)arg;
        for (;;) {
                int port = 0, i, s;
                struct sockaddr_in sa;

                pthread_mutex_lock(&poke_lock);
                while (!poke_busy)
                        pthread_cond_wait(&poke_cond, &poke_lock);
                for (i = 0; i < broker_cnt; i++)
                        if (broker_up[i]) {
                                port = broker_ports[i];
                                break;
                        }
                pthread_mutex_unlock(&poke_lock);

                if (port > 0 && (s = socket(AF_INET, SOCK_STREAM, 0)) >= 0) {
                        memset(&sa, 0, sizeof(sa));
                        sa.sin_family      = AF_INET;
                        sa.sin_port        = htons((uint16_t)port);
                        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                        (void)connect(s, (struct sockaddr *)&sa, sizeof(sa));
                        close(s);
                }
                usleep(2000);
        }
        return NULL;
}

static void op_begin(void) {
        pthread_mutex_lock(&poke_lock);
        poke_busy = 1;
        pthread_cond_signal(&poke_cond);
        pthread_mutex_unlock(&poke_lock);
}

static void op_end(void) {
        pthread_mutex_lock(&poke_lock);
        poke_busy = 0;
        pthread_mutex_unlock(&poke_lock);
}

static void set_broker_up(long id, int up) {
        int i;
        pthread_mutex_lock(&poke_lock);
        for (i = 0; i < broker_cnt; i++)
                if (id == -1 || id == i + 1)
                        broker_up[i] = up;
        pthread_mutex_unlock(&poke_lock);
}

static void reply_ok(void) {
        fputs("OK\n", stdout);
        fflush(stdout);
}

static void reply_err(const char *fmt, ...) {
        char msg[512];
        va_list ap;
        size_t i;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* The reply is one line: never let a message break the framing. */
        for (i = 0; msg[i]; i++)
                if (msg[i] == '\n' || msg[i] == '\r')
                        msg[i] = ' ';
        fprintf(stdout, "ERR %s\n", msg);
        fflush(stdout);
}

static void reply_rd(rd_kafka_resp_err_t err) {
        if (err)
                reply_err("%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
        else
                reply_ok();
}

/* Strict decimal integer in [lo, hi]; returns 0 on success. */
static int parse_int(const char *s, long lo, long hi, long *out) {
        char *end;
        long v;

        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < lo || v > hi)
                return -1;
        *out = v;
        return 0;
}

/* Error code as a number, or a librdkafka error name with or without the
 * RD_KAFKA_RESP_ERR_ prefix (e.g. NOT_LEADER_FOR_PARTITION, _TRANSPORT). */
static int parse_errcode(const char *s, rd_kafka_resp_err_t *out) {
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        long v;
        const char *name = s;

        if (parse_int(s, -1000, 1000, &v) == 0) {
                *out = (rd_kafka_resp_err_t)v;
                return 0;
        }
        if (!strncmp(name, "RD_KAFKA_RESP_ERR_", 18))
                name += 18;
        /* Kafka renamed error 6; librdkafka 2.0 still calls it the old name. */
        if (!strcmp(name, "NOT_LEADER_OR_FOLLOWER")) {
                *out = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
                return 0;
        }
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (descs[i].name && !strcmp(descs[i].name, name)) {
                        *out = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

static int valid_broker(long id) {
        return id == -1 || (id >= 1 && id <= broker_cnt);
}

static rd_kafka_resp_err_t create_topic(const char *name, int partitions) {
        rd_kafka_resp_err_t err;
        int p;

        op_begin();
        err = rd_kafka_mock_topic_create(mc, name, partitions,
                                         broker_cnt < 3 ? broker_cnt : 3);
        /* The mock picks leaders at random; tests that take a broker down
         * need to know which partitions they are hitting. */
        for (p = 0; !err && p < partitions; p++)
                err = rd_kafka_mock_partition_set_leader(mc, name, p,
                                                         (p % broker_cnt) + 1);
        op_end();
        return err;
}

static int valid_topic_name(const char *name) {
        size_t i, len = strlen(name);

        if (len == 0 || len > 249 || !strcmp(name, ".") || !strcmp(name, ".."))
                return 0;
        for (i = 0; i < len; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

/* Executes one command line; returns 1 when the program should exit. */
static int run_command(char *line) {
        char *argv[MAX_ARGS + 1];
        int argc = 0;
        char *save, *tok;
        long a, b, c, d;
        rd_kafka_resp_err_t code;

        for (tok = strtok_r(line, " \t\r\n", &save); tok;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
                if (argc == MAX_ARGS) {
                        reply_err("too many arguments");
                        return 0;
                }
                argv[argc++] = tok;
        }
        if (argc == 0) {
                reply_err("empty command");
                return 0;
        }

#define NEED(n, usage)                                                         \
        do {                                                                   \
                if (argc != (n)) {                                             \
                        reply_err("usage: %s", usage);                         \
                        return 0;                                              \
                }                                                              \
        } while (0)

        if (!strcmp(argv[0], "quit")) {
                reply_ok();
                return 1;
        } else if (!strcmp(argv[0], "ping")) {
                reply_ok();
        } else if (!strcmp(argv[0], "topic")) {
                NEED(3, "topic <name> <partitions>");
                if (!valid_topic_name(argv[1]))
                        reply_err("invalid topic name");
                else if (parse_int(argv[2], 1, MAX_PARTITIONS, &a))
                        reply_err("partitions must be 1..%d", MAX_PARTITIONS);
                else
                        reply_rd(create_topic(argv[1], (int)a));
        } else if (!strcmp(argv[0], "leader")) {
                NEED(4, "leader <topic> <partition> <brokerId>");
                if (parse_int(argv[2], 0, INT32_MAX, &a) ||
                    parse_int(argv[3], -1, broker_cnt, &b) || b == 0)
                        reply_err("bad partition or broker id");
                else {
                        op_begin();
                        code = rd_kafka_mock_partition_set_leader(
                            mc, argv[1], (int32_t)a, (int32_t)b);
                        op_end();
                        reply_rd(code);
                }
        } else if (!strcmp(argv[0], "down") || !strcmp(argv[0], "up")) {
                NEED(2, "down|up <brokerId>");
                if (parse_int(argv[1], -1, INT32_MAX, &a) || !valid_broker(a))
                        reply_err("unknown broker id %s", argv[1]);
                else {
                        int up = argv[0][0] == 'u';
                        op_begin();
                        code = up ? rd_kafka_mock_broker_set_up(mc, (int32_t)a)
                                  : rd_kafka_mock_broker_set_down(mc, (int32_t)a);
                        op_end();
                        if (!code)
                                set_broker_up(a, up);
                        reply_rd(code);
                }
        } else if (!strcmp(argv[0], "rtt")) {
                NEED(3, "rtt <brokerId> <ms>");
                if (parse_int(argv[1], -1, INT32_MAX, &a) || !valid_broker(a))
                        reply_err("unknown broker id %s", argv[1]);
                else if (parse_int(argv[2], 0, 3600 * 1000, &b))
                        reply_err("rtt must be 0..3600000 ms");
                else {
                        op_begin();
                        code = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a,
                                                            (int)b);
                        op_end();
                        reply_rd(code);
                }
        } else if (!strcmp(argv[0], "errors")) {
                rd_kafka_resp_err_t *errs;
                long i;

                NEED(4, "errors <apiKey> <count> <errcode>");
                if (parse_int(argv[1], 0, 100, &a))
                        reply_err("apiKey must be 0..100");
                else if (parse_int(argv[2], 1, MAX_ERRORS, &b))
                        reply_err("count must be 1..%d", MAX_ERRORS);
                else if (parse_errcode(argv[3], &code))
                        reply_err("unknown error code %s", argv[3]);
                else if (!(errs = malloc(sizeof(*errs) * (size_t)b)))
                        reply_err("out of memory");
                else {
                        for (i = 0; i < b; i++)
                                errs[i] = code;
                        rd_kafka_mock_push_request_errors_array(
                            mc, (int16_t)a, (size_t)b, errs);
                        free(errs);
                        reply_ok();
                }
        } else if (!strcmp(argv[0], "brokererrors")) {
                rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
                long i;

                if (argc != 5 && argc != 6) {
                        reply_err("usage: brokererrors <brokerId> <apiKey> "
                                  "<count> <errcode> [rttMs]");
                        return 0;
                }
                d = 0;
                if (parse_int(argv[1], 1, broker_cnt, &a))
                        reply_err("unknown broker id %s", argv[1]);
                else if (parse_int(argv[2], 0, 100, &b))
                        reply_err("apiKey must be 0..100");
                else if (parse_int(argv[3], 1, MAX_ERRORS, &c))
                        reply_err("count must be 1..%d", MAX_ERRORS);
                else if (parse_errcode(argv[4], &code))
                        reply_err("unknown error code %s", argv[4]);
                else if (argc == 6 && parse_int(argv[5], 0, 3600 * 1000, &d))
                        reply_err("rtt must be 0..3600000 ms");
                else {
                        /* The API is variadic only; push one tuple at a time. */
                        for (i = 0; i < c && !err; i++)
                                err = rd_kafka_mock_broker_push_request_error_rtts(
                                    mc, (int32_t)a, (int16_t)b, 1, code, (int)d);
                        reply_rd(err);
                }
        } else if (!strcmp(argv[0], "clear")) {
                NEED(2, "clear <apiKey>");
                if (parse_int(argv[1], 0, 100, &a))
                        reply_err("apiKey must be 0..100");
                else {
                        rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
                        reply_ok();
                }
        } else if (!strcmp(argv[0], "coordinator")) {
                NEED(4, "coordinator <group|transaction> <key> <brokerId>");
                if (strcmp(argv[1], "group") && strcmp(argv[1], "transaction"))
                        reply_err("key type must be group or transaction");
                else if (parse_int(argv[3], 1, broker_cnt, &a))
                        reply_err("unknown broker id %s", argv[3]);
                else {
                        op_begin();
                        code = rd_kafka_mock_coordinator_set(mc, argv[1],
                                                             argv[2], (int32_t)a);
                        op_end();
                        reply_rd(code);
                }
        } else if (!strcmp(argv[0], "apiversion")) {
                NEED(4, "apiversion <apiKey> <min> <max>");
                if (parse_int(argv[1], 0, 100, &a) ||
                    parse_int(argv[2], -1, 100, &b) ||
                    parse_int(argv[3], -1, 100, &c))
                        reply_err("bad apiKey or version");
                else {
                        op_begin();
                        code = rd_kafka_mock_set_apiversion(
                            mc, (int16_t)a, (int16_t)b, (int16_t)c);
                        op_end();
                        reply_rd(code);
                }
        } else {
                reply_err("unknown command %s", argv[0]);
        }
#undef NEED
        return 0;
}

/* Records each broker's port (bootstraps are "host:port,..." in id order) and starts the
 * wake-up helper. */
static int start_poker(void) {
        const char *p = rd_kafka_mock_cluster_bootstraps(mc);
        pthread_t th;
        int i;

        broker_ports = calloc((size_t)broker_cnt, sizeof(*broker_ports));
        broker_up    = calloc((size_t)broker_cnt, sizeof(*broker_up));
        if (!broker_ports || !broker_up)
                return -1;
        for (i = 0; i < broker_cnt; i++) {
                const char *colon = strchr(p, ':');
                if (!colon)
                        return -1;
                broker_ports[i] = atoi(colon + 1);
                broker_up[i]    = 1;
                p               = strchr(colon, ',');
                if (p)
                        p++;
                else if (i + 1 < broker_cnt)
                        return -1;
        }
        if (pthread_create(&th, NULL, poke_main, NULL))
                return -1;
        pthread_detach(th);
        return 0;
}

int main(int argc, char **argv) {
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        char errstr[512];
        char line[MAX_LINE];
        long n;
        int i, quit = 0;

        /* Die with the test runner, whatever way it goes. The parent may have
         * died before prctl took effect: check after arming. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
                perror("prctl");
                return 2;
        }
        if (getppid() == 1)
                return 2;
        /* A closed stdout (runner gone) must end us, not crash silently. */
        signal(SIGPIPE, SIG_DFL);

        if (argc < 2 || parse_int(argv[1], 1, 64, &n)) {
                fprintf(stderr,
                        "usage: %s <brokers 1..64> [topic:partitions ...]\n",
                        argv[0]);
                return 2;
        }
        broker_cnt = (int)n;

        conf = rd_kafka_conf_new();
        /* The mock refuses requests larger than the owning handle's
         * receive.message.max.bytes; allow the largest the client allows. */
        if (rd_kafka_conf_set(conf, "receive.message.max.bytes", "2147483647",
                              errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "log_level", "3", errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "conf: %s\n", errstr);
                return 2;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 2;
        }
        mc = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mc) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 2;
        }

        if (start_poker() == -1) {
                fprintf(stderr, "cannot parse bootstraps %s or start thread\n",
                        rd_kafka_mock_cluster_bootstraps(mc));
                return 2;
        }

        for (i = 2; i < argc; i++) {
                char *spec = argv[i];
                char *colon = strrchr(spec, ':');
                rd_kafka_resp_err_t err;

                if (!colon || parse_int(colon + 1, 1, MAX_PARTITIONS, &n)) {
                        fprintf(stderr, "bad topic spec %s (want name:partitions)\n",
                                spec);
                        return 2;
                }
                *colon = '\0';
                if (!valid_topic_name(spec)) {
                        fprintf(stderr, "invalid topic name %s\n", spec);
                        return 2;
                }
                if ((err = create_topic(spec, (int)n))) {
                        fprintf(stderr, "topic %s: %s\n", spec,
                                rd_kafka_err2str(err));
                        return 2;
                }
        }

        fprintf(stdout, "BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        while (!quit && fgets(line, sizeof(line), stdin)) {
                size_t len = strlen(line);
                if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
                        int ch;
                        /* Swallow the rest of an over-long line. */
                        while ((ch = getchar()) != EOF && ch != '\n')
                                ;
                        reply_err("line too long");
                        continue;
                }
                quit = run_command(line);
        }

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * insn-profile: a QEMU TCG plugin that counts the guest instructions
 * executed in each translation block whose address is at or above
 * "min" (default: the x86_64 and arm64 kernel halves), and writes
 * "<address> <instructions in the block> <executions>" lines to "out"
 * when the guest ends. scripts/profile.sh sums them per kernel symbol.
 *
 *   -plugin insn-profile.so,out=FILE[,min=0xffff800000000000]
 *
 * A callback per block execution: slow, but the counts are exact, and
 * they are instructions, the clock the icount bench rows are read on.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block **blocks;
static size_t nr_blocks, cap_blocks;
static uint64_t min_vaddr = 0xffff800000000000ULL;
static char *out_path;

static void exec_cb(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	__atomic_fetch_add(&b->count, 1, __ATOMIC_RELAXED);
}

static void trans_cb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b;

	if (vaddr < min_vaddr)
		return;
	b = calloc(1, sizeof(*b));
	if (!b)
		return;
	b->vaddr = vaddr;
	b->insns = qemu_plugin_tb_n_insns(tb);
	pthread_mutex_lock(&lock);
	if (nr_blocks == cap_blocks) {
		size_t cap = cap_blocks ? 2 * cap_blocks : 65536;
		struct block **n = realloc(blocks, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&lock);
			free(b);
			return;
		}
		blocks = n;
		cap_blocks = cap;
	}
	blocks[nr_blocks++] = b;
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_cb(tb, exec_cb, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void exit_cb(qemu_plugin_id_t id, void *p)
{
	FILE *f = fopen(out_path, "w");
	size_t i;

	if (!f)
		return;
	for (i = 0; i < nr_blocks; i++)
		if (blocks[i]->count)
			fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
				blocks[i]->vaddr, blocks[i]->insns, blocks[i]->count);
	fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out_path = strdup(argv[i] + 4);
		else if (!strncmp(argv[i], "min=", 4))
			min_vaddr = strtoull(argv[i] + 4, NULL, 0);
		else
			return -1;
	}
	if (!out_path)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, trans_cb);
	qemu_plugin_register_atexit_cb(id, exit_cb, NULL);
	return 0;
}

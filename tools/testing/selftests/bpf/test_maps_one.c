// SPDX-License-Identifier: GPL-2.0
/*
 * test_maps_one: run the map_tests/ tests named on the command line.
 *
 * test_maps has no selector: it runs its built-in map tests and then every
 * map_tests/ test. On a kernel with KASAN, lockdep and kmemleak under an
 * emulator the whole binary takes over an hour; this driver runs the map
 * tests that a change needs alone, linked with the unchanged test objects
 * (test_maps_one.mk names them).
 *
 * A test is found by its symbol (the binary is linked with -rdynamic), so a
 * test whose object is not linked in fails the run instead of passing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <test_maps.h>

int skips;

static int run_one(const char *name)
{
	char sym[128];
	void (*test)(void);

	snprintf(sym, sizeof(sym), "test_%s", name);
	test = (void (*)(void))dlsym(RTLD_DEFAULT, sym);
	if (!test) {
		printf("%s: not a map_tests/ test linked into test_maps_one\n", name);
		return 1;
	}
	test();
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s TEST...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (run_one(argv[i]))
			return 1;
	printf("test_maps_one: OK, %d SKIPPED\n", skips);
	return 0;
}

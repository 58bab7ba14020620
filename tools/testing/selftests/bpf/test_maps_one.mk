# SPDX-License-Identifier: GPL-2.0
# Read after the selftests' Makefile, for its compiler, flags and libbpf:
#   make -f Makefile -f test_maps_one.mk test_maps_one
# The map_tests/ objects linked in are the ones test_maps builds; -rdynamic
# lets the driver find their test functions by name.
TEST_MAPS_ONE_TESTS := sk_storage_map

$(OUTPUT)/test_maps_one: test_maps_one.c \
			 $(patsubst %,$(OUTPUT)/%.test.o,$(TEST_MAPS_ONE_TESTS)) \
			 $(BPFOBJ)
	$(call msg,BINARY,,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -rdynamic $(filter %.c %.o %.a,$^) $(LDLIBS) -o $@

.PHONY: test_maps_one
test_maps_one: $(OUTPUT)/test_maps_one

# SPDX-License-Identifier: GPL-2.0
# Read after the selftests' Makefile, for its compiler, flags and libbpf:
#   make -f Makefile -f test_maps_one.mk TEST_MAPS_ONE_TESTS="a b" test_maps_one
# TEST_MAPS_ONE_TESTS names the map_tests/ tests to link in; their objects
# are the ones test_maps builds, and -rdynamic lets the driver find their
# test functions by name.
ifneq ($(filter test_maps_one %/test_maps_one,$(MAKECMDGOALS)),)
ifeq ($(strip $(TEST_MAPS_ONE_TESTS)),)
$(error TEST_MAPS_ONE_TESTS names no map_tests/ test)
endif
# The binary is relinked when the list changes, not only its objects.
$(shell echo '$(TEST_MAPS_ONE_TESTS)' | cmp -s - $(OUTPUT)/test_maps_one.list || \
	echo '$(TEST_MAPS_ONE_TESTS)' > $(OUTPUT)/test_maps_one.list)
endif

$(OUTPUT)/test_maps_one: test_maps_one.c $(OUTPUT)/test_maps_one.list \
			 $(patsubst %,$(OUTPUT)/%.test.o,$(TEST_MAPS_ONE_TESTS)) \
			 $(BPFOBJ)
	$(call msg,BINARY,,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -rdynamic $(filter %.c %.o %.a,$^) $(LDLIBS) -o $@

.PHONY: test_maps_one
test_maps_one: $(OUTPUT)/test_maps_one

# Shim suites: pure units (no root) and, once the binary exists, protocol-level tests that
# drive containerd-shim-husk-v2 the way containerd does.
husk_criterion_test(NAME unit-shim-flags SOURCES unit/test_shim_flags.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-shim-address SOURCES unit/test_shim_address.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-stdio-uri SOURCES unit/test_stdio_uri.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-errmap SOURCES unit/test_errmap.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-shim-log SOURCES unit/test_shim_log.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-events-queue SOURCES unit/test_events_queue.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-shim-exits SOURCES unit/test_shim_exits.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-shim-stdio SOURCES unit/test_shim_stdio.c
	LIBS husk_shim_core LABELS unit)
husk_criterion_test(NAME unit-shim-reaper SOURCES unit/test_shim_reaper.c
	LIBS husk_shim_core LABELS unit)
if(TARGET husk::api)
	husk_criterion_test(NAME unit-convert SOURCES unit/test_convert.c
		LIBS husk_shim_core LABELS unit)
	husk_criterion_test(NAME unit-metrics SOURCES unit/test_metrics.c
		LIBS husk_shim_core LABELS unit)
	husk_criterion_test(NAME unit-shim-bootstrap SOURCES unit/test_shim_bootstrap.c
		LIBS husk_shim_core LABELS unit)
	# The task service against a fake runtime: its definitions come first and win.
	husk_criterion_test(NAME unit-shim-task
		SOURCES unit/test_shim_task.c unit/test_shim_task_fake.c
		LIBS husk_shim_task -Wl,--allow-multiple-definition LABELS unit)
	husk_criterion_test(NAME unit-task-table
		SOURCES unit/test_task_table.c unit/test_shim_task_fake.c
		LIBS husk_shim_task -Wl,--allow-multiple-definition LABELS unit)
endif()
if(TARGET husk::api)
	husk_criterion_test(NAME unit-shim-wire SOURCES unit/test_shim_wire.c
		LIBS husk_shim_core LABELS unit)
endif()
# -info and `husk features` run as containerd and an operator run them (no root needed).
if(TARGET containerd-shim-husk-v2)
	husk_criterion_test(NAME unit-shim-info SOURCES unit/test_shim_info.c
		LIBS husk::api husk::runtime PkgConfig::JANSSON LABELS unit)
	add_dependencies(test-unit-shim-info containerd-shim-husk-v2 husk)
endif()

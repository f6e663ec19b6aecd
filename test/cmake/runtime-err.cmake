husk_criterion_test(NAME unit-err SOURCES unit/test_err.c LIBS husk::runtime LABELS unit)

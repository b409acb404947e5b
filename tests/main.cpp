#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

// libsystemc references sc_main; the tests never call it (Catch owns main).
extern "C" int sc_main(int, char**) { return 1; }

// gatehouse-fga: runs OpenFGA store files. Usage: gatehouse-fga test FILE.fga.yaml [FILE...]
#include <iostream>
#include <string>

#include "authz/store_file_runner.h"

int main(int argc, char** argv) {
  if (argc < 3 || std::string(argv[1]) != "test") {
    std::cerr << "usage: gatehouse-fga test FILE.fga.yaml [FILE.fga.yaml ...]\n";
    return 2;
  }
  int worst = 0;
  for (int i = 2; i < argc; ++i) {
    if (argc > 3) std::cout << "== " << argv[i] << "\n";
    int rc = gh::authz::RunStoreFile(argv[i], std::cout);
    if (rc > worst) worst = rc;
  }
  return worst;
}

#!/bin/sh
# Build lod_bench against the BioFVM bundled with PhysiCell.
#   scripts/biofvm_bench/build.sh /path/to/PhysiCell [output]
set -e
src=${1:?path to a PhysiCell source tree}
out=${2:-$(dirname "$0")/lod_bench}
here=$(dirname "$0")
b=$src/BioFVM
g++ -march=native -O3 -fomit-frame-pointer -mfpmath=both -fopenmp -m64 -std=c++11 \
    -I"$b" -o "$out" "$here/lod_bench.cpp" \
    "$b/BioFVM_vector.cpp" "$b/BioFVM_mesh.cpp" "$b/BioFVM_microenvironment.cpp" \
    "$b/BioFVM_solvers.cpp" "$b/BioFVM_matlab.cpp" "$b/BioFVM_utilities.cpp" \
    "$b/BioFVM_basic_agent.cpp" "$b/BioFVM_MultiCellDS.cpp" "$b/BioFVM_agent_container.cpp" \
    "$b/pugixml.cpp"
echo "built $out"

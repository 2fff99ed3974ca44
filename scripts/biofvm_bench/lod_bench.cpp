// BioFVM's LOD diffusion-decay solver on n^3 voxels x s substrates, timed step by step.
//
//   lod_bench [n=96] [substrates=4] [steps=20] [threads=2]
//
// Built against PhysiCell's BioFVM (see README.md). Prints one line of key=value pairs:
// voxel-species updates per second (best and median of the steps, after one untimed
// set-up step, which factorises the Thomas coefficients). Peak resident memory comes from
// /usr/bin/time -v around it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "BioFVM.h"

using namespace BioFVM;

// BioFVM_microenvironment.cpp declares these extern; PhysiCell's core defines them
namespace BioFVM {
std::string BioFVM_version = "PhysiCell-bundled";
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 96;
  const int species = argc > 2 ? std::atoi(argv[2]) : 4;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 20;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
  omp_set_num_threads(threads);

  // same physical set-up as scripts/bench.py's transport core: 10 um voxels, dt = 60 s,
  // tissue-like diffusivities (BioFVM's LOD solver takes one constant D per substrate)
  const double dx = 10.0, dt = 60.0;
  const double diffusivity[4] = {1.0, 275.0, 560.0, 50.0};
  Microenvironment M;
  M.name = "lod_bench";
  M.time_units = "s";
  M.spatial_units = "micron";
  M.set_density(0, "s0", "uM", diffusivity[0], 1e-4);
  for (int s = 1; s < species; s++)
    M.add_density("s" + std::to_string(s), "uM", diffusivity[s % 4], 1e-4);
  M.resize_space_uniform(0.0, n * dx, 0.0, n * dx, 0.0, n * dx, dx);
  M.diffusion_decay_solver = diffusion_decay_solver__constant_coefficients_LOD_3D;

  std::mt19937 rng(0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (unsigned i = 0; i < M.number_of_voxels(); i++)
    for (int s = 0; s < species; s++) M.density_vector(i)[s] = u(rng);

  M.simulate_diffusion_decay(dt);  // set-up (factorisation) + first step, untimed
  std::vector<double> sec;
  for (int k = 0; k < steps; k++) {
    auto t0 = std::chrono::steady_clock::now();
    M.simulate_diffusion_decay(dt);
    auto t1 = std::chrono::steady_clock::now();
    sec.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::vector<double> sorted = sec;
  std::sort(sorted.begin(), sorted.end());
  const double vs = double(M.number_of_voxels()) * species;
  double total = 0.0;
  for (unsigned i = 0; i < M.number_of_voxels(); i++) total += M.density_vector(i)[0];
  std::printf("grid=%d^3 substrates=%d steps=%d threads=%d best_ms=%.2f median_ms=%.2f "
              "best_updates_per_s=%.3e median_updates_per_s=%.3e "
              "checksum=%.6e\n",
              n, species, steps, threads, 1e3 * sorted.front(), 1e3 * sorted[steps / 2],
              vs / sorted.front(), vs / sorted[steps / 2], total);
  return 0;
}

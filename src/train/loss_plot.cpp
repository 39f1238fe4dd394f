// loss.png from metrics.jsonl through gnuplot (Debian's gnuplot-nox, pngcairo): a plotting library in
// C++ would be a larger dependency than the two dozen lines this takes.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "primer/core/logging.h"
#include "primer/core/subprocess.h"
#include "primer/train/trainer.h"

namespace primer::train {

bool plot_loss_curve(const std::string& metrics_path, const std::string& png_path) {
  const std::string train_data = png_path + ".train.dat";
  const std::string validation_data = png_path + ".validation.dat";
  {
    std::ifstream in(metrics_path);
    std::ofstream train(train_data), validation(validation_data);
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
      if (record.contains("loss")) train << record["step"] << " " << record["loss"] << "\n";
      if (record.contains("validation_loss"))
        validation << record["step"] << " " << record["validation_loss"] << "\n";
    }
  }
  const std::string script = fmt::format(
      "set terminal pngcairo size 900,540 font 'sans,10'; set output {}; set xlabel 'step'; "
      "set ylabel 'loss (nats per token)'; set grid; set key top right; "
      "plot {} using 1:2 with lines lw 1 lc rgb '#4477aa' title 'train', "
      "{} using 1:2 with linespoints lw 2 pt 7 lc rgb '#cc3311' title 'validation'",
      gnuplot_string(png_path), gnuplot_string(train_data), gnuplot_string(validation_data));
  const int status = run_program({"gnuplot", "-e", script}, false).status;
  std::remove(train_data.c_str());
  std::remove(validation_data.c_str());
  if (status != 0) {
    log().warn("could not draw {} (is gnuplot installed? tools/setup.sh installs gnuplot-nox)", png_path);
    return false;
  }
  log().info("loss curve: {}", png_path);
  return true;
}

}  // namespace primer::train

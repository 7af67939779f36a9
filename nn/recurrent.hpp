// Recurrent modules: LSTM, GRU and their cells (rnn.hpp, rnn_cells.hpp).
#pragma once

#include "rnn.hpp"
#include "rnn_cells.hpp"

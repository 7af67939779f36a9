// The element types tapegrad provides: float and double. Function templates are defined in .cpp
// files, so each file instantiates its own for these types. The types are listed here once;
// a file lists its functions once, generic in T, and expands the list for every type:
//
//   #define TG_FUNCTIONS(T) template Variable<T> relu(const Variable<T>&);
//   TG_FOR_EACH_TYPE(TG_FUNCTIONS)
#pragma once

#define TG_FOR_EACH_TYPE(FUNCTIONS) FUNCTIONS(float) FUNCTIONS(double)

// A class template whose members are defined in one .cpp file.
#define TG_INSTANTIATE_CLASS(CLASS) \
  template class CLASS<float>;      \
  template class CLASS<double>;

package olm

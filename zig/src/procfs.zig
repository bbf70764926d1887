//! PLACEHOLDER: written by the codec helper.

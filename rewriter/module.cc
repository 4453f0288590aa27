// Placeholder so the module library exists until its issue lands.
namespace pgvise {}
